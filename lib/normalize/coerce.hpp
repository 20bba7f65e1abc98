// Type inference and coercion of JSON values into column types, following
// dlt's rules (docs/dlt-layout.md §Types, §Variant columns): what type a new column gets, and
// whether a later value fits an existing column or needs a variant column.
#pragma once

#include <boost/json/value.hpp>
#include <string>

#include "normalize/types.hpp"

namespace mh::normalize {

// The type a non-null value has on its own. Strings are `timestamp` when
// `detect_timestamps` and they parse as ISO date-times, else `text`; integers
// beyond int64 are `decimal` (dlt would say bigint and then fail the load).
DataType natural_type(const boost::json::value& v, bool detect_timestamps);

// Appends the value coerced into `target` in its canonical text form (what
// Postgres accepts as input for that type; bools `t`/`f`, timestamps UTC ISO,
// json compact) and returns true; returns false, leaving `out` as it was, when
// dlt's coercion would fail. `v` must not be null.
bool encode_value(DataType target, const boost::json::value& v, std::string& out);

// Whether every value of a `package` column (of the same type or another),
// in its canonical text form,
// is valid input for a `stored` column and stands for the value
// encode_value(stored, v) gives for the same JSON value: text ← bigint,
// double, json or decimal; double ← bigint; decimal ← bigint. Reconciling a
// package with a stored schema loads such a column straight into the stored
// one, as a sequential run would have. bool (`t`, where encode_value writes
// `True`) and timestamp (normalized to UTC, where the text keeps the
// original string) into text would change the value, so they stay variants.
bool canonical_text_fits(DataType stored, DataType package);

// Compact JSON text of `v`, with NUL characters replaced by U+FFFD (jsonb
// cannot store \u0000).
void append_json_text(std::string& out, const boost::json::value& v);

}  // namespace mh::normalize
