# Third-party packages, all from Debian 12 (scripts/install-deps.sh installs them).
# "1.81 EXACT" fails in BoostConfigVersion (string compare), hence 1.81.0.
find_package(Boost 1.81.0 EXACT CONFIG REQUIRED COMPONENTS json url)
find_package(OpenSSL REQUIRED)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)                    # ZLIB::ZLIB: dlt's compressed pipeline state
find_package(yaml-cpp CONFIG REQUIRED)          # target `yaml-cpp` (0.7 has no namespaced alias)
find_package(prometheus-cpp CONFIG REQUIRED)    # prometheus-cpp::core only; we serve /metrics ourselves
find_package(doctest CONFIG REQUIRED)
find_package(PkgConfig REQUIRED)

# libpqxx 6.4 ships only a pkg-config file. Debian builds it without std::optional
# detection, and as<std::optional<T>> then crashes on NULL: define it for every user.
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)
add_library(libpqxx::pqxx INTERFACE IMPORTED)
target_link_libraries(libpqxx::pqxx INTERFACE PkgConfig::PQXX)
target_compile_definitions(libpqxx::pqxx INTERFACE PQXX_HAVE_OPTIONAL)

pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
