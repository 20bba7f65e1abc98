// The HTTP floor of the bulk path (scripts/bench-bulk.sh): one blocking keep-alive
// connection pages through a cursor-paged listing and parses every page, nothing else.
//   bench_pager http://127.0.0.1:PORT/v1 API_KEY PATH CURSOR_PATH CURSOR_PARAM [LIST_KEY]
//   e.g. bench_pager "$SIM_URL" sim-dev-key "saved-items?limit=100" next_cursor cursor items
// Prints "pages=P records=R seconds=S". Plain HTTP over loopback only.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;

int main(int argc, char** argv) {
  if (argc < 6) {
    std::cerr << "usage: bench_pager BASE_URL API_KEY PATH CURSOR_PATH CURSOR_PARAM [LIST_KEY]\n";
    return 2;
  }
  const std::string base = argv[1], key = argv[2], path = argv[3], cursor_key = argv[4], param = argv[5];
  const std::string list_key = argc > 6 ? argv[6] : "items";
  // base = http://host:port/prefix
  const std::string rest = base.substr(base.find("://") + 3);
  const std::string hostport = rest.substr(0, rest.find('/'));
  const std::string prefix = rest.substr(hostport.size());
  const std::string host = hostport.substr(0, hostport.rfind(':'));
  const std::string port = hostport.substr(hostport.rfind(':') + 1);

  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  asio::connect(socket, asio::ip::tcp::resolver(io).resolve(host, port));
  socket.set_option(asio::ip::tcp::no_delay(true));
  boost::beast::flat_buffer buffer;
  const auto start = std::chrono::steady_clock::now();
  std::size_t pages = 0, records = 0;
  std::string target = prefix + "/" + path;
  const char sep = path.find('?') == std::string::npos ? '?' : '&';
  for (;;) {
    http::request<http::empty_body> req(http::verb::get, target, 11);
    req.set(http::field::host, hostport);
    req.set(http::field::authorization, "Bearer " + key);
    http::write(socket, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(socket, buffer, parser);
    auto& res = parser.get();
    if (res.result() != http::status::ok) {
      std::cerr << "bench_pager: " << target << " answered " << res.result_int() << "\n";
      return 1;
    }
    const json::value page = json::parse(res.body());
    ++pages;
    if (const auto* list = page.as_object().if_contains(list_key); list && list->is_array()) {
      records += list->as_array().size();
    }
    const auto* next = page.as_object().if_contains(cursor_key);
    if (next == nullptr || !next->is_string() || next->as_string().empty()) break;
    target = prefix + "/" + path + sep + param + "=" + std::string(next->as_string());
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("pages=%zu records=%zu seconds=%.3f\n", pages, records, secs);
  return 0;
}
