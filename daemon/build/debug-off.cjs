// Stands in for the `debug` package inside the bundle (usocket logs through
// it when DEBUG=usocket is set). Loading it costs start-up time and memory
// for output the daemon never enables.
'use strict';

module.exports = function createDebug() {
  const log = () => {};
  log.enabled = false;
  return log;
};
