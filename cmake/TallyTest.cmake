# The one way a test is registered (STYLE.md habit 9).
#
#   tally_add_gtest(NAME sdk_json SOURCES json_test.cc LIBS tally_core)
#
# builds a GoogleTest binary and registers each TEST with CTest under the label given by the
# folder it sits in (sdk, collector, ...), so `ctest -L sdk` runs one layer.

find_package(GTest REQUIRED)
include(GoogleTest)

function(tally_add_gtest)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main)
  target_compile_options(${T_NAME} PRIVATE ${TALLY_WARNINGS})
  target_compile_definitions(${T_NAME} PRIVATE
    TALLY_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    TALLY_FIXTURES_DIR="${PROJECT_SOURCE_DIR}/../shared/fixtures")
  get_filename_component(label ${CMAKE_CURRENT_SOURCE_DIR} NAME)
  gtest_discover_tests(${T_NAME} PROPERTIES LABELS ${label} DISCOVERY_TIMEOUT 60)
endfunction()
