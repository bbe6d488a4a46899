// H5File::check (see hdf5.h): a walk over every object of a file that reads everything HDF5
// stores and verifies, recording what fails instead of stopping at it.
#include <algorithm>
#include <filesystem>
#include <set>
#include <string>

#include "train/checkpoint/hdf5.h"

namespace sg {

namespace {

// Dataset values are read this many bytes at a time (HDF5 verifies each chunk as it reads it).
constexpr size_t kBlockBytes = size_t{16} << 20;
// No stored byte inflates to more than about 1032 (deflate's limit).
constexpr uint64_t kMaxInflation = 1100;
// Deeper nesting than this is a corrupt (or hostile) file.
constexpr int kMaxDepth = 64;

class Walk {
 public:
  Walk(hid_t file, uint64_t file_size, H5Check& out)
      : file_(file), file_size_(file_size), out_(out) {}

  // Checks the object open as `obj` (named `path`) and, for a group, everything below it.
  void object(hid_t obj, const std::string& path, int depth) {
    ++out_.objects;
    std::string identity;
    unsigned version = 0;
    H5O_type_t type = H5O_TYPE_UNKNOWN;
    uint64_t bytes = 0;
    if (!header_info(obj, identity, version, type, bytes)) return damaged(path, "object header");
    if (!seen_.insert(identity).second) return;  // a second hard link to the same object
    out_.accounted_bytes += bytes;
    if (version < 2)
      unchecksummed(path + " (object header version " + std::to_string(version) + ")");
    attributes(obj, path);
    if (type == H5O_TYPE_DATASET) return dataset(obj, path);
    if (type != H5O_TYPE_GROUP) return;
    if (depth >= kMaxDepth)
      return damaged(path, "groups nested deeper than " + std::to_string(kMaxDepth));
    H5G_info_t info;
    if (H5Gget_info(obj, &info) < 0) return damaged(path, "its list of members");
    const std::string prefix = path == "/" ? "/" : path + "/";
    for (hsize_t i = 0; i < info.nlinks; ++i) {
      const ssize_t n =
          H5Lget_name_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
      std::string name(n > 0 ? static_cast<size_t>(n) + 1 : 0, '\0');
      if (n <= 0 || H5Lget_name_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(),
                                       name.size(), H5P_DEFAULT) < 0)
        return damaged(path, "its list of members");
      name.resize(static_cast<size_t>(n));
      H5L_info_t link;
      if (H5Lget_info(obj, name.c_str(), &link, H5P_DEFAULT) < 0) {
        damaged(prefix + name, "its link");
        continue;
      }
      if (link.type != H5L_TYPE_HARD) continue;  // soft and external links are never followed
      Handle child(H5Oopen(obj, name.c_str(), H5P_DEFAULT), Handle::Kind::object);
      if (!child.valid()) {
        damaged(prefix + name, "object header");
        continue;
      }
      object(child.get(), prefix + name, depth + 1);
    }
  }

 private:
  void damaged(const std::string& object, const std::string& what) {
    std::string reason = reason_.empty() ? hdf5_error_reason() : reason_;
    reason_.clear();
    if (reason.empty()) reason = "cannot read " + what;
    out_.damaged.push_back({object, reason});
  }
  void unchecksummed(const std::string& what) { out_.unchecksummed.push_back(what); }

  bool plausible(uint64_t bytes, uint64_t inflation) const {
    return bytes / inflation <= file_size_;
  }

  // The object's identity, header version and type, and the bytes of the file it occupies
  // besides its values: the object header (all its chunks), and the B-trees and heaps of a
  // group's links, a dataset's chunk index and an object's attributes.
  static bool header_info(hid_t obj, std::string& identity, unsigned& version, H5O_type_t& type,
                          uint64_t& bytes) {
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t basic;
    H5O_native_info_t native;
    if (H5Oget_info3(obj, &basic, H5O_INFO_BASIC) < 0 ||
        H5Oget_native_info(obj, &native, H5O_NATIVE_INFO_ALL) < 0)
      return false;
    identity.assign(reinterpret_cast<const char*>(&basic.token), sizeof basic.token);
    version = native.hdr.version;
    type = basic.type;
    const H5O_hdr_info_t& hdr = native.hdr;
    const auto& meta = native.meta_size;
#else
    H5O_info_t info;
    if (H5Oget_info2(obj, &info, H5O_INFO_BASIC | H5O_INFO_HDR | H5O_INFO_META_SIZE) < 0)
      return false;
    identity = std::to_string(info.addr);
    version = info.hdr.version;
    type = info.type;
    const H5O_hdr_info_t& hdr = info.hdr;
    const auto& meta = info.meta_size;
#endif
    bytes = hdr.space.total + meta.obj.index_size + meta.obj.heap_size + meta.attr.index_size +
            meta.attr.heap_size;
    return true;
  }

  // Reads `count` values of `type` with `read(mem_type, buffer)`. Returns false on a failed
  // read, with HDF5's reason kept for damaged() (the next HDF5 call clears it).
  template <class ReadFn>
  bool values(hid_t type, uint64_t count, const std::string& where, ReadFn read) {
    bool ok = true;
    if (H5Tis_variable_str(type) > 0 || H5Tdetect_class(type, H5T_VLEN) > 0) {
      unchecksummed(where + " (variable-length values, in HDF5's global heap)");
      if (H5Tis_variable_str(type) <= 0) return true;  // not read: never in a checkpoint
      Handle mem(H5Tcopy(type), Handle::Kind::datatype);
      std::vector<char*> strings(count, nullptr);
      ok = mem.valid() && read(mem.get(), strings.data()) >= 0;
      if (!ok) reason_ = hdf5_error_reason();
      for (char* p : strings)
        if (p != nullptr) H5free_memory(p);
      return ok;
    }
    Handle mem(H5Tcopy(type), Handle::Kind::datatype);
    std::vector<char> buf(count * H5Tget_size(type));
    ok = mem.valid() && read(mem.get(), buf.data()) >= 0;
    if (!ok) reason_ = hdf5_error_reason();
    return ok;
  }

  void attributes(hid_t obj, const std::string& path) {
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    if (H5Oget_info3(obj, &info, H5O_INFO_NUM_ATTRS) < 0) return damaged(path, "its attributes");
    const hsize_t n = info.num_attrs;
#else
    H5O_info_t info;
    if (H5Oget_info2(obj, &info, H5O_INFO_NUM_ATTRS) < 0) return damaged(path, "its attributes");
    const hsize_t n = info.num_attrs;
#endif
    for (hsize_t i = 0; i < n; ++i) {
      Handle attr(H5Aopen_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT),
                  Handle::Kind::attribute);
      if (!attr.valid()) return damaged(path, "its attributes");
      char name[256] = {};
      H5Aget_name(attr.get(), sizeof name, name);
      const std::string where = "attribute '" + std::string(name) + "' of " + path;
      ++out_.attributes;
      Handle type(H5Aget_type(attr.get()), Handle::Kind::datatype);
      Handle space(H5Aget_space(attr.get()), Handle::Kind::dataspace);
      const hssize_t count = space.valid() ? H5Sget_simple_extent_npoints(space.get()) : -1;
      if (!type.valid() || count < 0) {
        damaged(where, "its type or shape");
        continue;
      }
      if (!plausible(static_cast<uint64_t>(count) * H5Tget_size(type.get()), 1)) {
        out_.damaged.push_back({where, "claims more bytes than the file holds"});
        continue;
      }
      if (!values(type.get(), static_cast<uint64_t>(count), where,
                  [&](hid_t mem, void* buf) { return H5Aread(attr.get(), mem, buf); }))
        damaged(where, "its value");
    }
  }

  void dataset(hid_t ds, const std::string& path) {
    Handle type(H5Dget_type(ds), Handle::Kind::datatype);
    Handle space(H5Dget_space(ds), Handle::Kind::dataspace);
    Handle dcpl(H5Dget_create_plist(ds), Handle::Kind::plist);
    const int rank = space.valid() ? H5Sget_simple_extent_ndims(space.get()) : -1;
    if (!type.valid() || !dcpl.valid() || rank < 0) return damaged(path, "its type or shape");
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
      return damaged(path, "its shape");
    uint64_t count = 1;
    for (hsize_t d : dims) count = d == 0 ? 0 : (count > UINT64_MAX / d ? UINT64_MAX : count * d);
    const size_t size = H5Tget_size(type.get());
    if (size == 0 || count > UINT64_MAX / size || !plausible(count * size, kMaxInflation))
      return out_.damaged.push_back({path, "claims more data than the file holds"});
    const H5D_layout_t layout = H5Pget_layout(dcpl.get());
    bool fletcher = false;
    for (int f = 0, nf = H5Pget_nfilters(dcpl.get()); f < nf; ++f) {
      unsigned flags = 0;
      size_t nvalues = 0;
      fletcher |= H5Pget_filter2(dcpl.get(), static_cast<unsigned>(f), &flags, &nvalues, nullptr, 0,
                                 nullptr, nullptr) == H5Z_FILTER_FLETCHER32;
    }
    if (count > 0 && layout != H5D_COMPACT && !(layout == H5D_CHUNKED && fletcher))
      unchecksummed(path + " (values without a Fletcher32 checksum)");
    if (layout != H5D_COMPACT)
      out_.accounted_bytes += H5Dget_storage_size(ds);  // compact: in the header
    if (count == 0) return;
    // A block of rows of the leading dimension at a time (all of a scalar).
    const uint64_t row = rank > 0 ? count / dims[0] * size : size;
    const hsize_t rows = rank > 0 ? std::max<uint64_t>(1, kBlockBytes / row) : 1;
    const hsize_t total = rank > 0 ? dims[0] : 1;
    for (hsize_t begin = 0; begin < total; begin += rows) {
      const hsize_t n = std::min(rows, total - begin);
      std::vector<hsize_t> start(dims.size(), 0), extent = dims;
      Handle mem, file_sel;
      if (rank > 0) {
        start[0] = begin;
        extent[0] = n;
        mem = Handle(H5Screate_simple(rank, extent.data(), nullptr), Handle::Kind::dataspace);
        file_sel = Handle(H5Scopy(space.get()), Handle::Kind::dataspace);
        if (!mem.valid() || !file_sel.valid() ||
            H5Sselect_hyperslab(file_sel.get(), H5S_SELECT_SET, start.data(), nullptr,
                                extent.data(), nullptr) < 0)
          return damaged(path, "its values");
      }
      const hid_t m = rank > 0 ? mem.get() : H5S_ALL, fs = rank > 0 ? file_sel.get() : H5S_ALL;
      if (!values(type.get(), n * (row / size), path,
                  [&](hid_t t, void* buf) { return H5Dread(ds, t, m, fs, H5P_DEFAULT, buf); }))
        return damaged(path, "its values");
      out_.data_bytes += static_cast<int64_t>(n * row);
    }
  }

  hid_t file_;
  uint64_t file_size_;
  H5Check& out_;
  std::set<std::string> seen_;
  std::string reason_;  // HDF5's reason for the last failed read
};

}  // namespace

H5Check H5File::check(const std::string& path) {
  silence_hdf5();
  H5Check out;
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    out.damaged.push_back({"/", "cannot read the file: " + ec.message()});
    return out;
  }
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), Handle::Kind::file);
  if (!file.valid()) {
    const std::string reason = hdf5_error_reason();
    out.damaged.push_back({"/", reason.empty() ? "not a readable HDF5 file" : reason});
    return out;
  }
  out.file_bytes = size;
  H5F_info2_t info;
  if (H5Fget_info2(file.get(), &info) == 0) {
    out.superblock_version = info.super.version;
    out.accounted_bytes += info.super.super_size + info.super.super_ext_size;
  }
  H5Eclear2(H5E_DEFAULT);
  if (out.superblock_version < 2)
    out.unchecksummed.push_back("/ (superblock version " + std::to_string(out.superblock_version) +
                                ")");
  Walk walk(file.get(), size, out);
  Handle root(H5Oopen(file.get(), "/", H5P_DEFAULT), Handle::Kind::object);
  if (!root.valid()) {
    const std::string reason = hdf5_error_reason();
    out.damaged.push_back({"/", reason.empty() ? "cannot read the root group" : reason});
    return out;
  }
  walk.object(root.get(), "/", 0);
  return out;
}

}  // namespace sg
