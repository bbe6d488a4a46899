// A thin RAII layer over the HDF5 C API for checkpoints and fixtures.
// Every HDF5 id lives in a move-only Handle closed by the matching H5*close; the library's
// automatic error-stack printer is switched off once, and every failure becomes one
// std::runtime_error line naming the file, the object and HDF5's innermost reason.
// Only numbered (1.10 .. 1.14 stable) API functions are used.
//
// Paths are absolute or relative to the root ("model/x" == "/model/x"); '/' separates groups,
// dots are ordinary characters (so "/model/src_embed.weight" is one dataset in group /model).
// Writing creates missing intermediate groups. Shape {} means a scalar dataset.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "autograd/tensor.h"

namespace sg {

// Owns one HDF5 id and closes it with the H5*close that matches its kind.
class Handle {
 public:
  enum class Kind : uint8_t { file, group, dataset, dataspace, datatype, attribute, plist, object };
  Handle() = default;
  Handle(hid_t id, Kind kind) : id_(id), kind_(kind) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_), kind_(o.kind_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now; returns the H5*close status (negative on failure).
  herr_t reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
  Kind kind_ = Kind::object;
};

// Switches off HDF5's printing of its error stack (once per process; every H5File does this).
void silence_hdf5();
// The description of the innermost error on HDF5's error stack (where it was first detected),
// which is then cleared; "" if there is none.
std::string hdf5_error_reason();

// A dataset's contents: row-major values and their shape.
template <class T>
struct H5Array {
  Shape shape;
  std::vector<T> data;
};

// What H5File::check found in a file.
struct H5Check {
  struct Problem {
    std::string object;  // "/model/generator.weight", "attribute 'json' of /config", or "/"
    std::string reason;  // HDF5's, e.g. "data error detected by fletcher32 checksum"
  };
  std::vector<Problem> damaged;            // what failed to read
  std::vector<std::string> unchecksummed;  // what is stored without a checksum (older files)
  unsigned superblock_version = 0;
  int64_t objects = 0, attributes = 0, data_bytes = 0;  // what was read
  // The file's size, and how much of it the superblock, the object headers, the indexes and
  // heaps, and the stored dataset values take up. The rest is space that nothing reads: free
  // space left by HDF5's allocator, or bytes after the end of HDF5's data.
  uint64_t file_bytes = 0, accounted_bytes = 0;
};

class H5File {
 public:
  // Reads every object header, every attribute and every dataset value of the file at `path`
  // (in the 1.10 format, every byte HDF5 keeps a checksum of) and reports each part that fails
  // to read, going on with the rest; and lists what is stored without a checksum: a superblock
  // or object header of an older version, variable-length strings (HDF5's global heap), dataset
  // values outside a Fletcher32 chunk or the object header. Never throws for a damaged file.
  static H5Check check(const std::string& path);

  static H5File create(const std::string& path);     // creates or truncates, read-write
  static H5File open_read(const std::string& path);  // read-only
  H5File(H5File&&) noexcept = default;
  H5File& operator=(H5File&&) noexcept = default;

  const std::string& path() const { return path_; }
  void flush();
  // Closes the file, reporting a failure (the destructor closes silently).
  void close();

  // ---- groups and links
  void create_group(const std::string& path);  // with intermediate groups; no-op if it exists
  // True if every level of `path` exists (a missing intermediate group is simply false).
  bool exists(const std::string& path) const;
  // Names of the children of a group, in name order.
  std::vector<std::string> list(const std::string& group) const;

  // ---- numeric datasets (the dataset must not exist yet)
  void write(const std::string& path, const float* data, const Shape& shape);
  void write(const std::string& path, const double* data, const Shape& shape);
  void write(const std::string& path, const int64_t* data, const Shape& shape);
  void write(const std::string& path, const uint64_t* data, const Shape& shape);
  Shape shape_of(const std::string& path) const;
  // Reads converting from the stored numeric type to the requested one.
  H5Array<float> read_f32(const std::string& path) const;
  H5Array<double> read_f64(const std::string& path) const;
  H5Array<int64_t> read_i64(const std::string& path) const;
  H5Array<uint64_t> read_u64(const std::string& path) const;
  // Reads a float32-convertible dataset straight into `out` (numel must equal the stored size).
  void read_into(const std::string& path, float* out, int64_t numel) const;

  // ---- byte strings: a 1-D uint8 dataset (h5py: f[path][()].tobytes())
  void write_bytes(const std::string& path, std::string_view bytes);
  std::string read_bytes(const std::string& path) const;

  // ---- string datasets: 1-D, variable-length UTF-8 (h5py: string_dtype('utf-8'))
  void write_strings(const std::string& path, const std::vector<std::string>& values);
  std::vector<std::string> read_strings(const std::string& path) const;

  // ---- attributes on the root ("" or "/") or on any group or dataset; set_* replaces
  void set_attr_str(const std::string& object, const std::string& name, const std::string& v);
  void set_attr_i64(const std::string& object, const std::string& name, int64_t v);
  void set_attr_f64(const std::string& object, const std::string& name, double v);
  bool has_attr(const std::string& object, const std::string& name) const;
  std::string attr_str(const std::string& object, const std::string& name) const;
  int64_t attr_i64(const std::string& object, const std::string& name) const;
  double attr_f64(const std::string& object, const std::string& name) const;
  // Attribute names of an object, in name order.
  std::vector<std::string> attr_names(const std::string& object) const;

 private:
  H5File(Handle file, std::string path) : file_(std::move(file)), path_(std::move(path)) {}
  void write_raw(const std::string& path, hid_t file_type, hid_t mem_type, const void* data,
                 const Shape& shape);
  Handle open_dataset(const std::string& path) const;
  Shape shape_of(hid_t dataset, const std::string& path) const;
  Handle open_object(const std::string& path) const;
  template <class T>
  H5Array<T> read_as(const std::string& path, hid_t mem_type) const;
  void set_attr_raw(const std::string& object, const std::string& name, hid_t file_type,
                    hid_t mem_type, const void* value);
  Handle open_attr(const std::string& object, const std::string& name) const;

  Handle file_;
  std::string path_;
};

}  // namespace sg
