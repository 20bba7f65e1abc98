# Compiler flags for our own targets: strict warnings, optional sanitizers.
add_library(mhloader_flags INTERFACE)
target_compile_options(mhloader_flags INTERFACE -Wall -Wextra -Wpedantic -Wshadow=local
                       -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wno-missing-field-initializers)
if(MHLOADER_WERROR)
  target_compile_options(mhloader_flags INTERFACE -Werror)
endif()
# GCC 12 with optimisation flags Asio's awaitable frame (its own operator new/delete)
# as -Wmismatched-new-delete: a false positive in every coroutine TU.
target_compile_options(mhloader_flags INTERFACE -Wno-mismatched-new-delete)
# GCC 12 -O3 reports a false -Wrestrict inside std::string (GCC bug 105329).
target_compile_options(mhloader_flags INTERFACE $<$<CONFIG:Release>:-Wno-restrict>)
target_compile_definitions(mhloader_flags INTERFACE BOOST_ASIO_NO_DEPRECATED)

if(MHLOADER_SANITIZE STREQUAL "address")
  # GCC's "undefined" leaves out float-cast-overflow (a double cast to an integer it
  # does not fit): named here, so the --asan build catches such casts too.
  set(_san -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer
           -fno-sanitize-recover=undefined,float-cast-overflow)
elseif(MHLOADER_SANITIZE STREQUAL "thread")
  # GCC 12 warns (-Wtsan) wherever a header uses std::atomic_thread_fence (Asio does),
  # which TSan does not model: a warning about the tool, not about our code.
  set(_san -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan)
elseif(NOT MHLOADER_SANITIZE STREQUAL "")
  message(FATAL_ERROR "MHLOADER_SANITIZE must be '', 'address' or 'thread'")
endif()
if(_san)
  # -O1 with instrumentation makes GCC 12 report false -Wmaybe-uninitialized inside
  # libstdc++ (std::regex's NFA states); plain builds keep the warning.
  target_compile_options(mhloader_flags INTERFACE ${_san} -O1 -g -Wno-maybe-uninitialized)
  target_link_options(mhloader_flags INTERFACE ${_san})
endif()
