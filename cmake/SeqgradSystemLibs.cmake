# OpenBLAS and HDF5's C library as the imported targets seqgrad::openblas and seqgrad::hdf5,
# found by path (Debian's locations first). seqgrad's own build and its installed package
# (seqgrad-config.cmake) both include this file, so an outside project links what seqgrad was
# built with, and needs no C compiler (CMake's FindHDF5 does). Sets SEQGRAD_SYSTEM_LIBS_MISSING
# to a sentence naming what was not found, or leaves it empty.
set(SEQGRAD_SYSTEM_LIBS_MISSING "")

# Defines `target` from a library and a header folder, or names `package` in the message.
function(seqgrad_import_library target library include_dir package)
  if(TARGET ${target})
    return()
  endif()
  if(NOT ${library} OR NOT ${include_dir})
    set(SEQGRAD_SYSTEM_LIBS_MISSING
      "${SEQGRAD_SYSTEM_LIBS_MISSING}${target} not found (apt-get install ${package}). "
      PARENT_SCOPE)
    return()
  endif()
  add_library(${target} UNKNOWN IMPORTED)
  set_target_properties(${target} PROPERTIES IMPORTED_LOCATION "${${library}}"
    INTERFACE_INCLUDE_DIRECTORIES "${${include_dir}}")
endfunction()

# Debian's OpenMP build of OpenBLAS first, so that GEMMs and seqgrad's own loops share one
# thread pool.
find_path(SEQGRAD_CBLAS_INCLUDE_DIR cblas.h
  HINTS /usr/include/x86_64-linux-gnu/openblas-openmp /usr/include/openblas
        /usr/include/x86_64-linux-gnu/openblas-pthread)
find_library(SEQGRAD_OPENBLAS_LIBRARY NAMES openblas
  HINTS /usr/lib/x86_64-linux-gnu/openblas-openmp /usr/lib/x86_64-linux-gnu/openblas-pthread)
seqgrad_import_library(seqgrad::openblas SEQGRAD_OPENBLAS_LIBRARY SEQGRAD_CBLAS_INCLUDE_DIR
  libopenblas-openmp-dev)

# Debian installs the serial HDF5 under hdf5/serial/.
find_path(SEQGRAD_HDF5_INCLUDE_DIR hdf5.h PATH_SUFFIXES hdf5/serial)
find_library(SEQGRAD_HDF5_LIBRARY NAMES hdf5 hdf5_serial PATH_SUFFIXES hdf5/serial)
seqgrad_import_library(seqgrad::hdf5 SEQGRAD_HDF5_LIBRARY SEQGRAD_HDF5_INCLUDE_DIR libhdf5-dev)
