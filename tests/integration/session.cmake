# The session filter end to end: real HTTP through Gatehouse (in process) against a real redis-server on a loopback
# port, and against a real express-session + connect-redis app (tests/peers/express-app, run with node).
add_executable(session_integration_tests
  session_outcomes_test.cpp
  session_revocation_test.cpp
  session_store_failure_test.cpp
  session_rolling_test.cpp
  session_pipeline_test.cpp
  session_express_app_test.cpp
)
target_link_libraries(session_integration_tests
  PRIVATE gatehouse_options gatehouse_integration_harness gatehouse_test_support GTest::gtest_main OpenSSL::Crypto
)
# The express app's sources and its npm installer are found from the checkout.
target_compile_definitions(session_integration_tests PRIVATE GATEHOUSE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
gtest_discover_tests(session_integration_tests DISCOVERY_TIMEOUT 30 PROPERTIES TIMEOUT 120)
