// Stands in for the `bindings` package when usocket's JavaScript is bundled:
// usocket asks for its addon with require('bindings')('uwrap'). bindings
// searches a dozen directories derived from a stack trace; we know where the
// layer installs it: node_modules/usocket/build/Release/uwrap.node beside the
// bundle. `require` here is the bundle's real require (see bundle.ts).
'use strict';

const path = require('node:path');

module.exports = function loadAddon(name) {
  const usocketDir = path.dirname(require.resolve('usocket/package.json'));
  return require(path.join(usocketDir, 'build', 'Release', `${name}.node`));
};
