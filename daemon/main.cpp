// mhloader: keeps a PostgreSQL database in sync with a Magic Hour account.
#include "app/cli.hpp"

int main(int argc, char** argv) { return mh::app::main(argc, argv); }
