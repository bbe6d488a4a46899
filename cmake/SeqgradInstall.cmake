# The installed library (docs/api.md). `cmake --install build --prefix P` puts the public
# headers under P/include/seqgrad/ (with their in-tree names: P/include/seqgrad/autograd/tensor.h),
# the libraries of the public folders under P/lib/, the command under P/bin/ and a CMake package
# under P/lib/cmake/seqgrad/, so that an outside project writes
#   find_package(seqgrad REQUIRED)
#   target_link_libraries(app PRIVATE seqgrad::seqgrad)
# and #include <seqgrad/seqgrad.h>. Consumers get P/include/seqgrad on their include path, which
# resolves the headers' own includes ("autograd/tensor.h"), and P/include for <seqgrad/...>.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The public folders, each exported as seqgrad::<name>; the training loop, the attention
# drawings and the command line stay inside (the command itself is installed).
set(SEQGRAD_PUBLIC progress autograd layers datasets optim train/config train/checkpoint train/decode)
# Headers of public folders that are not installed: the CBLAS call behind matmul and attention,
# and what the two halves of the HDF5 layer share.
set(SEQGRAD_INTERNAL_HEADERS autograd/gemm.h train/checkpoint/hdf5_internal.h)

# seqgrad::seqgrad, every public library (named seqgrad_api here: `seqgrad` is the executable).
add_library(seqgrad_api INTERFACE)
set_target_properties(seqgrad_api PROPERTIES EXPORT_NAME seqgrad)
add_library(seqgrad::seqgrad ALIAS seqgrad_api)
target_include_directories(seqgrad_api INTERFACE
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include> $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}>)
# The headers use C++20; the installed include dirs come with the lowest library.
target_compile_features(seqgrad_autograd PUBLIC cxx_std_20)
target_include_directories(seqgrad_autograd INTERFACE
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/seqgrad> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

set(public_targets seqgrad_api)
foreach(folder IN LISTS SEQGRAD_PUBLIC)
  get_filename_component(name ${folder} NAME)
  target_link_libraries(seqgrad_api INTERFACE seqgrad_${name})
  set_target_properties(seqgrad_${name} PROPERTIES EXPORT_NAME ${name})
  list(APPEND public_targets seqgrad_${name})
  file(GLOB headers CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${folder}/*.h)
  foreach(internal IN LISTS SEQGRAD_INTERNAL_HEADERS)
    list(REMOVE_ITEM headers ${CMAKE_CURRENT_SOURCE_DIR}/${internal})
  endforeach()
  install(FILES ${headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/seqgrad/${folder})
endforeach()
install(FILES include/seqgrad/seqgrad.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/seqgrad)
install(TARGETS ${public_targets} EXPORT seqgradTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS seqgrad RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(package_dir ${CMAKE_INSTALL_LIBDIR}/cmake/seqgrad)
install(EXPORT seqgradTargets NAMESPACE seqgrad:: DESTINATION ${package_dir})
configure_package_config_file(cmake/seqgrad-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/seqgrad-config.cmake INSTALL_DESTINATION ${package_dir})
# 0.x: a minor version may change the API (docs/api.md, "What stays stable").
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/seqgrad-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/seqgrad-config.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/seqgrad-config-version.cmake cmake/SeqgradSystemLibs.cmake
  DESTINATION ${package_dir})
