// Stands in for Node's assert module inside the daemon bundle: dbus-next's
// marshaller (CommonJS, hence this file's format) uses two checks from it,
// and loading node:assert costs a few milliseconds of start-up.
'use strict';

class AssertionError extends Error {}
AssertionError.prototype.name = 'AssertionError';

function assert(value, message) {
  if (!value) throw new AssertionError(message || 'assertion failed');
}
assert.ok = assert;
assert.strictEqual = function strictEqual(actual, expected, message) {
  if (!Object.is(actual, expected)) throw new AssertionError(message || `${actual} !== ${expected}`);
};
assert.AssertionError = AssertionError;

module.exports = assert;
