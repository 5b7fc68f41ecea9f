/**
 * Table output in every --format, checked against byte fixtures captured from
 * the real ovs-vsctl 3.1 / ovsdb-client for the same data.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  TablePrinter,
  formatG,
  jsonToString,
  textCell,
  type DatumCell,
  type Table,
  type TableStyle,
} from "../../src/util/table-format.js";

const style = (over: Partial<TableStyle> = {}): TableStyle => ({
  format: "table",
  cellFormat: "string",
  headings: true,
  pretty: false,
  ...over,
});

const cell = (string: string, bare: string, json: DatumCell["json"]): DatumCell => ({ kind: "datum", string, bare, json });

// `ovs-vsctl --columns=name,datapath_type,stp_enable list bridge` on a fresh br0.
const BRIDGE: Table = {
  headings: ["name", "datapath_type", "stp_enable"],
  rows: [[cell("br0", "br0", "br0"), cell('""', "", ""), cell("false", "false", false)]],
};

test("table format pads columns and drops trailing spaces (ovs-vsctl --format=table)", () => {
  const out = new TablePrinter().format(BRIDGE, style());
  assert.equal(out, 'name datapath_type stp_enable\n---- ------------- ----------\nbr0  ""            false\n');
});

test("table format without headings sizes columns by data only", () => {
  const t: Table = { headings: ["name", "external_ids"], rows: [[cell("br0", "br0", "br0"), cell('{a=b, "x y"="1,2"}', "a=b x y=1,2", ["map", [["a", "b"], ["x y", "1,2"]]])]] };
  assert.equal(new TablePrinter().format(t, style({ headings: false })), 'br0 {a=b, "x y"="1,2"}\n');
});

test("list format: 20-column headings, blank line between records and between tables", () => {
  const p = new TablePrinter();
  const t: Table = {
    headings: ["mcast_snooping_enable", "name"],
    rows: [
      [cell("false", "false", false), cell("br0", "br0", "br0")],
      [cell("true", "true", true), cell("br1", "br1", "br1")],
    ],
  };
  const s = style({ format: "list" });
  assert.equal(p.format(t, s), "mcast_snooping_enable: false\nname                : br0\n\nmcast_snooping_enable: true\nname                : br1\n");
  assert.equal(p.format({ headings: ["name"], rows: [] }, s), "\n");
  assert.equal(p.format({ headings: ["name"], rows: [[cell("x", "x", "x")]] }, s), "\nname                : x\n");
});

test("bare and json cell formats", () => {
  const t: Table = {
    headings: ["name", "ports"],
    rows: [[cell("br0", "br0", "br0"), cell("[9b66f295-4eb1-423a-a542-ee17196753fe]", "9b66f295-4eb1-423a-a542-ee17196753fe", ["uuid", "9b66f295-4eb1-423a-a542-ee17196753fe"])]],
  };
  assert.equal(new TablePrinter().format(t, style({ format: "list", cellFormat: "bare", headings: false })), "br0\n9b66f295-4eb1-423a-a542-ee17196753fe\n");
  assert.equal(
    new TablePrinter().format(t, style({ format: "list", cellFormat: "json" })),
    'name                : "br0"\nports               : ["uuid","9b66f295-4eb1-423a-a542-ee17196753fe"]\n',
  );
});

test("csv format quotes cells with commas, quotes or newlines", () => {
  // ovs-vsctl --format=csv --columns=name,external_ids,other_config list bridge
  const t: Table = {
    headings: ["name", "external_ids", "other_config"],
    rows: [[cell("br0", "br0", "br0"), cell('{a=b, "x y"="1,2"}', "", null), cell('{q="a\\"b<&>"}', "", null)]],
  };
  assert.equal(
    new TablePrinter().format(t, style({ format: "csv" })),
    'name,external_ids,other_config\nbr0,"{a=b, ""x y""=""1,2""}","{q=""a\\""b<&>""}"\n',
  );
});

test("html format links uuids and escapes text", () => {
  // ovs-vsctl --format=html --columns=_uuid,name,ports,other_config list bridge
  const u = "f72c64f0-b433-46b4-b2bd-ed7c1fdb62e7";
  const p1 = "9b66f295-4eb1-423a-a542-ee17196753fe";
  const p2 = "ab2ebe3b-91a9-4d79-984f-6aefa2bc8a81";
  const t: Table = {
    headings: ["_uuid", "name", "ports", "other_config"],
    rows: [[cell(u, u, ["uuid", u]), cell("br0", "br0", "br0"), cell(`[${p1}, ${p2}]`, "", null), cell('{q="a\\"b<&>"}', "", null)]],
  };
  const want =
    "<table border=1>\n  <tr>\n    <th>_uuid</th>\n    <th>name</th>\n    <th>ports</th>\n    <th>other_config</th>\n  </tr>\n  <tr>\n" +
    `    <td><a name="${u}">f72c64f0</a></td>\n    <td>br0</td>\n` +
    `    <td>[<a href="#${p1}">9b66f295</a>, <a href="#${p2}">ab2ebe3b</a>]</td>\n` +
    "    <td>{q=&quot;a\\&quot;b&lt;&amp;&gt;&quot;}</td>\n  </tr>\n</table>\n";
  assert.equal(new TablePrinter().format(t, style({ format: "html" })), want);
});

test("json format, compact and pretty (ovsdb-client dump --format=json [--pretty])", () => {
  const t: Table = { caption: "Bridge table", headings: ["name"], rows: [[cell("br0", "br0", "br0")]] };
  assert.equal(new TablePrinter().format(t, style({ format: "json" })), '{"caption":"Bridge table","data":[["br0"]],"headings":["name"]}\n');
  assert.equal(
    new TablePrinter().format(t, style({ format: "json", pretty: true })),
    '{\n  "caption": "Bridge table",\n  "data": [\n    [\n      "br0"]],\n  "headings": [\n    "name"]}\n',
  );
  const empty: Table = { headings: ["_uuid"], rows: [] };
  assert.equal(new TablePrinter().format(empty, style({ format: "json" })), '{"data":[],"headings":["_uuid"]}\n');
  assert.equal(new TablePrinter().format({ headings: ["x"], rows: [[textCell("t")]] }, style({ format: "json" })), '{"data":[["t"]],"headings":["x"]}\n');
});

test("jsonToString escapes like OVS and formatG matches printf %.15g", () => {
  assert.equal(jsonToString("a\"b\\c\n\t\u0001é/"), '"a\\"b\\\\c\\n\\t\\u0001é/"');
  assert.equal(jsonToString({ b: 1, a: [true, null, 2.5] }, { sort: true }), '{"a":[true,null,2.5],"b":1}');
  assert.equal(formatG(0.1), "0.1");
  assert.equal(formatG(1e20), "1e+20");
  assert.equal(formatG(123456.789), "123456.789");
  assert.equal(formatG(1.5e-7), "1.5e-07");
  assert.equal(formatG(-2), "-2");
  assert.equal(formatG(1 / 3), "0.333333333333333");
});

test("--max-column-width caps and truncates table columns", () => {
  // ovs-vsctl --format=table --max-column-width=5 --columns=name,_uuid list port
  const u1 = "ae277c1e-0000-4000-8000-000000000000";
  const u2 = "1c601aaa-0000-4000-8000-000000000000";
  const t: Table = {
    headings: ["name", "_uuid"],
    rows: [
      [cell("averylongportname", "", null), cell(u1, "", null)],
      [cell("br0", "", null), cell(u2, "", null)],
    ],
  };
  assert.equal(new TablePrinter().format(t, style({ maxColumnWidth: 5 })), "name  _uuid\n----- -----\navery ae277\nbr0   1c601\n");
});
