#!/usr/bin/env node
// The one entry point: `tsovs <subcommand> ...`. The TypeScript sources are
// compiled to dist/ by `npm run build` (also run by `npm start` and `npm test`).
import { main } from "../dist/src/cli/main.js";

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === "number") process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`tsovs: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  },
);
