// Reading the repository's Markdown docs in tests: a section under a heading and
// the rows of its first table, so docs that state a contract can be checked against code.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace mh::test {

// The text under the heading `heading` (e.g. "## Metrics"), up to the next heading of the
// same or a higher level. Throws std::runtime_error when the heading is missing.
std::string markdown_section(const std::string& text, const std::string& heading);

// The rows of the first pipe table in `text`, each keyed by the header's cells. Cells are
// trimmed; backticks around a whole cell are not removed (see `unquote`).
using MarkdownRow = std::map<std::string, std::string>;
std::vector<MarkdownRow> markdown_table(const std::string& text);

// Every `code span` in a cell, in order ("`a`, `b`" -> {a, b}).
std::vector<std::string> code_spans(const std::string& cell);

// A cell without surrounding backticks ("`id`" -> "id").
std::string unquote(const std::string& cell);

}  // namespace mh::test
