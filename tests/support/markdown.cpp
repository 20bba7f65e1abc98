#include "support/markdown.hpp"

#include <sstream>
#include <stdexcept>

namespace mh::test {

namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// Cells of a table line "| a | b |"; a `\|` inside a cell is a literal bar.
std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
      cur += '|';
      ++i;
    } else if (line[i] == '|') {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += line[i];
    }
  }
  return out;
}

std::size_t heading_level(const std::string& line) {
  std::size_t n = 0;
  while (n < line.size() && line[n] == '#') ++n;
  return n > 0 && n < line.size() && line[n] == ' ' ? n : 0;
}

}  // namespace

std::string markdown_section(const std::string& text, const std::string& heading) {
  std::size_t level = heading_level(heading);
  if (level == 0) throw std::runtime_error("not a heading: " + heading);
  std::istringstream in(text);
  std::string line, out;
  bool inside = false, fence = false;
  while (std::getline(in, line)) {
    if (line.starts_with("```")) fence = !fence;
    std::size_t l = fence || line.starts_with("```") ? 0 : heading_level(line);
    if (inside && l > 0 && l <= level) break;
    if (inside) out += line + "\n";
    if (!inside && l == level && line == heading) inside = true;
  }
  if (!inside) throw std::runtime_error("no section '" + heading + "'");
  return out;
}

std::vector<MarkdownRow> markdown_table(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> header;
  std::vector<MarkdownRow> rows;
  bool started = false;
  while (std::getline(in, line)) {
    bool is_row = line.starts_with("|");
    if (!is_row) {
      if (started) break;
      continue;
    }
    auto c = cells(line);
    if (!started) {
      header = c;
      started = true;
      std::getline(in, line);  // the |---|---| line
      continue;
    }
    MarkdownRow row;
    for (std::size_t i = 0; i < header.size(); ++i) row[header[i]] = i < c.size() ? c[i] : "";
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::string> code_spans(const std::string& cell) {
  std::vector<std::string> out;
  for (std::size_t open = cell.find('`'); open != std::string::npos; open = cell.find('`', open)) {
    auto close = cell.find('`', open + 1);
    if (close == std::string::npos) break;
    out.push_back(cell.substr(open + 1, close - open - 1));
    open = close + 1;
  }
  return out;
}

std::string unquote(const std::string& cell) {
  if (cell.size() >= 2 && cell.front() == '`' && cell.back() == '`') return cell.substr(1, cell.size() - 2);
  return cell;
}

}  // namespace mh::test
