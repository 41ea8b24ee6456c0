// The core's floors (ARCHITECTURE.md, "Inside the core: floors"): a file imports only its own floor
// or lower ones, features never import each other, the protocol stays pure, and code outside core/
// comes in through the doors. Type imports count too: a floor does not even know a higher one's types.
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

const FLOOR_ZERO = new Set(["base", "marmot", "relays", "storage", "agentApi"]);
const FLOOR_OF_AREA = new Map([["state", 1], ["chats", 2], ["app", 4]]);
const DOORS = ["core/index.ts", "core/marmot/index.ts"];
const TEST_HELPERS = "core/testing.ts";
// The renderer may not import the core at all (its own rule); benchmarks and e2e tests may import everything.
const UNCHECKED_OUTSIDE = ["renderer/", "bench/", "e2e/"];
const FLOORS_LIST =
  "core/base/, marmot/, relays/, storage/ or agentApi/ (floor 0), core/state/ (1), core/chats/ (2), core/features/<name>/ (3) or core/app/ (4)";

const isTestCode = (path) =>
  /\.(test|fixture)\.tsx?$/.test(path) || path === TEST_HELPERS || path.startsWith("core/integration/");

/** The floor of a file under core/, its feature on floor 3, or undefined when it is on none. */
function floorOf(path) {
  if (path === "core/index.ts") return { floor: 5 };
  const [, area, feature, ...rest] = path.split("/");
  if (FLOOR_ZERO.has(area) && feature !== undefined) return { floor: 0, area };
  if (area === "features") return rest.length > 0 ? { floor: 3, area, feature } : undefined;
  if (FLOOR_OF_AREA.has(area) && feature !== undefined) return { floor: FLOOR_OF_AREA.get(area), area };
  return undefined;
}

/** Repo-relative, with `/`; a `.js` specifier names its `.ts` source. Undefined outside the repo. */
function repoPath(file) {
  const path = relative(root, file).split(sep).join("/");
  if (path === ".." || path.startsWith("../") || isAbsolute(path)) return undefined;
  return path.replace(/\.js$/, ".ts");
}

function specifierOf(source) {
  if (source?.type === "Literal" && typeof source.value === "string") return source.value;
  if (source?.type === "TemplateLiteral" && source.expressions.length === 0) return source.quasis[0].value.cooked;
  return undefined;
}

const coreFloors = {
  meta: {
    type: "problem",
    docs: { description: "The core's floors: imports go to the same floor or lower, features stay apart, outside code uses the doors." },
    schema: [],
    messages: {
      notOnFloor: "{{file}} is not on a floor: move it to {{floors}} (ARCHITECTURE.md)",
      upward: "{{file}} (floor {{floor}}) may not import {{target}} (floor {{targetFloor}}): a file imports only its own floor or lower ones (ARCHITECTURE.md)",
      otherFeature:
        "{{file}} may not import {{target}}: features never import each other; their wiring is the account composer's, floor 4 (ARCHITECTURE.md)",
      impureProtocol: "{{file}} may not import {{target}}: marmot/ is the pure protocol and imports only marmot/ and shared/ (ARCHITECTURE.md)",
      outsideCore: "{{file}} may not import {{target}}: the core imports only core/ and shared/ (ARCHITECTURE.md)",
      testCode: "{{file}} may not import {{target}}: test code is for tests only",
      pastDoor: "{{file}} may not import {{target}}: outside core/, import only {{doors}} (ARCHITECTURE.md)",
    },
  },
  create(context) {
    const file = repoPath(context.filename);
    if (file === undefined) return {};
    const inCore = file.startsWith("core/");
    if (!inCore && UNCHECKED_OUTSIDE.some((area) => file.startsWith(area))) return {};
    if (inCore && isTestCode(file)) return {};
    const place = inCore ? floorOf(file) : undefined;
    if (inCore && place === undefined) {
      return { Program: (node) => context.report({ node, messageId: "notOnFloor", data: { file, floors: FLOORS_LIST } }) };
    }
    const doors = isTestCode(file) ? [...DOORS, TEST_HELPERS] : DOORS;

    /** The message id for importing `target` from `file`, or undefined when the import is allowed. */
    function refusal(target) {
      const targetInCore = target.startsWith("core/");
      if (!inCore) return targetInCore && !doors.includes(target) ? "pastDoor" : undefined;
      if (!targetInCore) return target.startsWith("shared/") ? undefined : "outsideCore";
      if (isTestCode(target)) return "testCode";
      const targetPlace = floorOf(target);
      if (targetPlace === undefined) return "notOnFloor";
      if (place.area === "marmot" && targetPlace.area !== "marmot") return "impureProtocol";
      if (targetPlace.floor > place.floor) return "upward";
      if (place.floor === 3 && targetPlace.floor === 3 && targetPlace.feature !== place.feature) return "otherFeature";
      return undefined;
    }

    function check(source) {
      const specifier = specifierOf(source);
      if (specifier === undefined || !specifier.startsWith(".")) return;
      const target = repoPath(resolve(dirname(context.filename), specifier));
      if (target === undefined) return;
      const messageId = refusal(target);
      if (messageId === undefined) return;
      const data = {
        file: messageId === "notOnFloor" ? target : file,
        target,
        floor: place?.floor,
        targetFloor: floorOf(target)?.floor,
        floors: FLOORS_LIST,
        doors: doors.join(" or "),
      };
      context.report({ node: source, messageId, data });
    }

    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
      TSImportType: (node) => check(node.source),
    };
  },
};

export default { rules: { "core-floors": coreFloors } };
