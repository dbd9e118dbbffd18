// The one place that imports dbus-next (a CommonJS package): everything else
// in the runtime takes its classes from here, so the interop lives in one file.
import dbusNext from 'dbus-next';
import type * as DBusNextTypes from 'dbus-next';

export const { Variant, DBusError, Message, MessageBus, interface: dbusInterface } = dbusNext;
export type Variant<T = unknown> = DBusNextTypes.Variant<T>;
export type DBusError = DBusNextTypes.DBusError;
export type Message = DBusNextTypes.Message;
export type MessageBus = DBusNextTypes.MessageBus;
export const BaseInterface = dbusNext.interface.Interface;
export type BaseInterface = DBusNextTypes.interface.Interface;
export const { sessionBus, systemBus } = dbusNext;

/** Message type numbers on the wire (dbus-next's MessageType). */
export const MessageType = { METHOD_CALL: 1, METHOD_RETURN: 2, ERROR: 3, SIGNAL: 4 } as const;
/** Flag asking the callee not to reply. */
export const NO_REPLY_EXPECTED = 1;
