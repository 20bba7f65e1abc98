// Bulk benchmark (docs/design.md §Performance targets): N synthetic records (12 fields, one nested
// object, a 2-element list: ~4 rows each across 3 tables) normalized into a
// load package and loaded into Postgres, against a plain COPY of the same
// files into identical fresh tables in the same run.
//
//   MHLOADER_TEST_PG_DSN=... bench_load [N=1000000] [DSN]
//   bench_load --normalize-only [N]     (no database; for profiling)
#include <sys/resource.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <pqxx/pqxx>
#include <string>

#include "load/package_builder.hpp"
#include "load/pg_copy.hpp"
#include "load/postgres.hpp"
#include "load/postgres_sql.hpp"
#include "log/log.hpp"

namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

json::object record(long i) {
  std::string id = "item_" + std::to_string(i);
  json::object r;
  r["id"] = id;
  r["name"] = "Saved item number " + std::to_string(i);
  r["type"] = i % 3 == 0 ? "character" : "reference";
  r["status"] = "active";
  r["created_at"] = "2025-01-" + std::to_string(10 + i % 18) + "T10:" + std::to_string(10 + i % 50) + ":00.123Z";
  r["credits"] = i % 1000;
  r["score"] = static_cast<double>(i % 997) / 7.0;
  r["enabled"] = i % 2 == 0;
  r["url"] = "https://example.invalid/items/" + id;
  r["description"] = "A moderately long description of the saved item, with a tab\tand a quote \"" + id;
  r["model"] = "default";
  r["counter"] = i;
  r["settings"] = json::object{{"prompt", "Sunset over mountains"}, {"mode", "fast"}, {"tags", json::array{"x"}}};
  json::array downloads;
  for (int d = 0; d < 2; ++d) {
    downloads.push_back(json::object{{"url", "https://example.invalid/" + id + "/" + std::to_string(d) + ".png"},
                                     {"expires_at", "2025-02-01T05:16:19.027Z"}});
  }
  r["downloads"] = std::move(downloads);
  return r;
}

// Plain COPY of the package files into fresh tables with the same DDL.
double plain_copy(const std::string& dsn, const std::string& schema_name, const mh::load::Package& pkg) {
  pqxx::connection conn{dsn};
  {
    pqxx::work tx{conn};
    tx.exec0("SET LOCAL client_min_messages TO warning");
    tx.exec0("DROP SCHEMA IF EXISTS " + mh::load::quote_ident(schema_name) + " CASCADE");
    tx.exec0(mh::load::create_schema_sql(schema_name));
    for (const auto& t : pkg.schema().tables()) tx.exec0(mh::load::create_table_sql(schema_name, t));
    tx.commit();
  }
  auto start = Clock::now();
  pqxx::work tx{conn};
  for (const auto& t : pkg.manifest().tables) {
    for (const auto& f : t.files) {
      mh::load::copy_file(tx, mh::load::qualified(schema_name, t.name), f.columns, pkg.path(f));
    }
  }
  tx.commit();
  return seconds_since(start);
}

void drop_schemas(const std::string& dsn, const std::vector<std::string>& names) {
  pqxx::connection conn{dsn};
  pqxx::work tx{conn};
  tx.exec0("SET LOCAL client_min_messages TO warning");
  for (const auto& n : names) tx.exec0("DROP SCHEMA IF EXISTS " + mh::load::quote_ident(n) + " CASCADE");
  tx.commit();
}

}  // namespace

int main(int argc, char** argv) {
  bool normalize_only = argc > 1 && std::string(argv[1]) == "--normalize-only";
  if (normalize_only) {
    --argc;
    ++argv;
  }
  long n = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  const char* env = std::getenv("MHLOADER_TEST_PG_DSN");
  std::string dsn = argc > 2 ? argv[2] : (env != nullptr ? env : "");
  if (n <= 0 || (dsn.empty() && !normalize_only)) {
    std::cerr << "usage: MHLOADER_TEST_PG_DSN=... bench_load [N] [DSN]\n";
    return 2;
  }
  mh::log::set_level(mh::log::Level::warn);
  std::string tag = "bench_" + std::to_string(getpid());
  std::string dataset = tag;
  std::string plain = tag + "_plain";
  std::string state_dir = (std::filesystem::temp_directory_path() / tag).string();
  try {
    mh::normalize::Schema schema("magic_hour");
    mh::normalize::Resource resource{"saved_items"};

    // Normalize: only the builder's work is timed, not making the records.
    double normalize_s = 0;
    auto t0 = Clock::now();
    mh::load::PackageBuilder builder(state_dir, schema);
    normalize_s += seconds_since(t0);
    for (long i = 0; i < n; ++i) {
      json::object r = record(i);
      auto t = Clock::now();
      builder.add(resource, r);
      normalize_s += seconds_since(t);
    }
    t0 = Clock::now();
    mh::load::Package pkg = builder.finish();
    double finish_s = seconds_since(t0);
    normalize_s += finish_s;
    double rss_after_normalize = peak_rss_mib();
    std::uint64_t rows = pkg.manifest().rows();
    if (normalize_only) {
      std::printf("normalize %.2f s (%.2f s sealing the package), %.0f rows/s, peak RSS %.1f MiB\n", normalize_s,
                  finish_s, static_cast<double>(rows) / normalize_s, rss_after_normalize);
      std::filesystem::remove_all(state_dir);
      return 0;
    }

    // Plain COPY before and after our load, so neither side gets the warmer slot.
    double plain_before = plain_copy(dsn, plain, pkg);
    mh::load::PostgresDestination dest{mh::load::PostgresConfig{dsn, dataset}};
    t0 = Clock::now();
    dest.load(pkg);
    double load_s = seconds_since(t0);
    double plain_after = plain_copy(dsn, plain, pkg);
    double plain_s = (plain_before + plain_after) / 2;
    mh::load::remove_package(pkg.dir());
    drop_schemas(dsn, {dataset, dataset + "_staging", plain});
    std::filesystem::remove_all(state_dir);

    double e2e = normalize_s + load_s;
    auto per_s = [](double count, double s) { return count / s; };
    std::printf("records                %ld\n", n);
    std::printf("rows                   %llu (%zu tables)\n", static_cast<unsigned long long>(rows),
                pkg.manifest().tables.size());
    std::printf("normalize              %.2f s  %.0f rows/s  %.0f records/s  (%.2f s sealing the package)\n",
                normalize_s, per_s(static_cast<double>(rows), normalize_s), per_s(static_cast<double>(n), normalize_s),
                finish_s);
    std::printf("load (postgres)        %.2f s  %.0f rows/s\n", load_s, per_s(static_cast<double>(rows), load_s));
    std::printf("end to end             %.2f s\n", e2e);
    std::printf("plain COPY             %.2f s  (%.2f s before, %.2f s after the load)\n", plain_s, plain_before,
                plain_after);
    std::printf("ratio end-to-end/COPY  %.2f  (target <= 1.5)\n", e2e / plain_s);
    std::printf("ratio load/COPY        %.2f\n", load_s / plain_s);
    std::printf("peak RSS               %.1f MiB  (%.1f MiB after normalize; target <= 64, flat in N)\n",
                peak_rss_mib(), rss_after_normalize);
  } catch (const std::exception& e) {
    std::cerr << "bench_load: " << e.what() << "\n";
    try {
      drop_schemas(dsn, {dataset, dataset + "_staging", plain});
    } catch (...) {
    }
    std::filesystem::remove_all(state_dir);
    return 1;
  }
  return 0;
}
