# One INTERFACE target for the language level and warnings, linked by every component, so that every
# translation unit is compiled the same way. Sanitizers are options, not build types.
add_library(gatehouse_options INTERFACE)
target_compile_features(gatehouse_options INTERFACE cxx_std_20)
target_compile_options(gatehouse_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                                   -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
                                                   -Wimplicit-fallthrough)
# Not -Wnull-dereference: at -O2 and above GCC 12 reports it inside Asio's scheduler after inlining (false positives
# in code we do not own), which would break every Release build with warnings as errors. -Wrestrict likewise: GCC 12
# flags `"literal" + std::string` inside libstdc++ at -O2 (GCC bug 105329).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(gatehouse_options INTERFACE -Wno-restrict)
endif()
if(GATEHOUSE_WARNINGS_AS_ERRORS)
  target_compile_options(gatehouse_options INTERFACE -Werror)
endif()
# Beast/Asio: no deprecated interfaces, and one translation unit carries Asio's separate compilation.
target_compile_definitions(gatehouse_options INTERFACE BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)

if(GATEHOUSE_SANITIZE_ADDRESS AND GATEHOUSE_SANITIZE_THREAD)
  message(FATAL_ERROR "ASan and TSan cannot be combined: choose GATEHOUSE_SANITIZE_ADDRESS or GATEHOUSE_SANITIZE_THREAD")
endif()
if(GATEHOUSE_SANITIZE_ADDRESS)
  target_compile_options(gatehouse_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                                     -fno-sanitize-recover=undefined)
  target_link_options(gatehouse_options INTERFACE -fsanitize=address,undefined)
endif()
if(GATEHOUSE_SANITIZE_THREAD)
  target_compile_options(gatehouse_options INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(gatehouse_options INTERFACE -fsanitize=thread)
endif()
