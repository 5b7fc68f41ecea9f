#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=30
// The one entry point: `tsovs <subcommand> ...`. The TypeScript sources are
// compiled to dist/ by `npm run build` (also run by `npm start` and `npm test`).
//
// --max-semi-space-size=4: the daemons hold many small long-lived objects;
// a 4 MB young generation instead of V8's 16 MB keeps their resident memory
// per database row below OVS's (bench ovsdb (d): 853 -> 657 bytes/row). V8
// reads it only at start-up, so it must be on the command line.
// --heap-growing-percent=30: the old generation may grow 30% past what the
// last full collection kept before the next one, instead of V8's 1.1-4x
// chosen by collection speed; loading 100,000 flows then leaves ~660
// instead of 720-890 bytes of resident memory per flow (bench openflow),
// at no measurable cost in load time.
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
