// Run the Khronos glTF validator (npm gltf-validator, a library without a CLI) on each file in argv.
// Usage: node gltf_validate.mjs [--ignore CODE,CODE] file.glb ... ; prints a JSON array of reports.
// The package is looked up from GLTF_VALIDATOR_NODE_MODULES (a node_modules directory).
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";

const modules = process.env.GLTF_VALIDATOR_NODE_MODULES;
if (!modules) {
  console.error("set GLTF_VALIDATOR_NODE_MODULES to the node_modules directory holding gltf-validator");
  process.exit(2);
}
const validator = createRequire(join(modules, "noop.js"))("gltf-validator");

const args = process.argv.slice(2);
let ignoredIssues = [];
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--ignore") ignoredIssues = args[++i].split(",").filter(Boolean);
  else files.push(args[i]);
}

const reports = [];
for (const file of files) {
  const report = await validator.validateBytes(new Uint8Array(readFileSync(file)), {
    uri: basename(file),
    maxIssues: 0,
    writeTimestamp: false,
    ignoredIssues,
  });
  reports.push({
    uri: basename(file),
    errors: report.issues.numErrors,
    warnings: report.issues.numWarnings,
    infos: report.issues.numInfos,
    hints: report.issues.numHints,
    messages: report.issues.messages,
  });
}
process.stdout.write(JSON.stringify(reports));
