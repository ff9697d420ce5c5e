// Holds a SQLite file's write lock as another process on the host would (BEGIN EXCLUSIVE), prints
// "locked", and releases it after the given milliseconds.
//   bun test/apps/sqlite-lock-holder.ts <file> <ms>

import { Database } from "bun:sqlite";

const [file, ms] = process.argv.slice(2);
const db = new Database(file!, { create: true });
db.run("BEGIN EXCLUSIVE");
console.log("locked");
setTimeout(() => {
  db.run("COMMIT");
  db.close();
}, Number(ms));
