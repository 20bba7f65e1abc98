// The `mhloader` command line (docs/design.md §CLI): parses arguments and runs a
// subcommand. Exit codes: 0 success, 1 failure, 2 usage or configuration error.
#pragma once

namespace mh::app {

int main(int argc, char** argv);

}  // namespace mh::app
