// Loads the Reflect metadata polyfill that @peculiar/x509 (through tsyringe) needs, as an ES
// module of its own: bundled into the single binary, an ES module imported before
// @peculiar/x509 runs before it, where a bare CommonJS side-effect import would run after.

import "reflect-metadata";
