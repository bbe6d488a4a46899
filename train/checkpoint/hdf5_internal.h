// Internal to hdf5.cpp and hdf5_datasets.cpp (not installed): what both halves of the HDF5 layer
// use, the failure messages, the normalized form of a path and the compact creation properties.
// Defined in hdf5.cpp.
#pragma once

#include <hdf5.h>

#include <string>

namespace sg::h5 {

// Throws for a failed HDF5 call, with the library's reason appended.
[[noreturn]] void fail(const std::string& what, const std::string& file);
// Throws for a problem this layer detected itself (no HDF5 reason to add).
[[noreturn]] void fail_plain(const std::string& what, const std::string& file);
// "a/b.c/d" and "/a/b.c/d" -> "/a/b.c/d"; "" -> "/".
std::string normalize(const std::string& path);
// Sets an object's creation properties: no modification times, links and attributes kept in the
// object header; false on an HDF5 failure.
bool compact_storage(hid_t ocpl);

}  // namespace sg::h5
