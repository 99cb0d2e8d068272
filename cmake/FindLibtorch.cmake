# libtorch is found, never downloaded (architecture.md decision 6). Order: LIBTORCH / Torch_DIR
# from the environment, a Python torch install's cmake prefix, then the system (Debian libtorch-dev).
set(_signin_torch_hints)
if(DEFINED ENV{Torch_DIR})
  list(APPEND _signin_torch_hints "$ENV{Torch_DIR}")
endif()
if(DEFINED ENV{LIBTORCH})
  list(APPEND _signin_torch_hints "$ENV{LIBTORCH}/share/cmake/Torch" "$ENV{LIBTORCH}")
endif()
find_program(_signin_python NAMES python3 python)
if(_signin_python AND NOT DEFINED ENV{SIGNIN_TORCH_NO_PYTHON})
  execute_process(COMMAND ${_signin_python} -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
    OUTPUT_VARIABLE _signin_py_prefix OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _signin_py_rc)
  if(_signin_py_rc EQUAL 0 AND _signin_py_prefix)
    list(APPEND _signin_torch_hints "${_signin_py_prefix}/Torch")
  endif()
endif()

# TorchConfig finds its Caffe2 config and libc10 with PATHS, which CMake searches after the system
# prefixes: beside a Debian libtorch-dev, a pip torch's headers were paired with Debian's 1.13
# libraries. Putting the chosen libtorch's prefix first makes every lookup inside it win.
foreach(_signin_torch_dir IN LISTS Torch_DIR _signin_torch_hints)
  if(EXISTS "${_signin_torch_dir}/TorchConfig.cmake")
    get_filename_component(_signin_torch_prefix "${_signin_torch_dir}/../../.." ABSOLUTE)
    list(PREPEND CMAKE_PREFIX_PATH "${_signin_torch_prefix}")
    break()
  endif()
endforeach()

find_package(Torch QUIET HINTS ${_signin_torch_hints})
if(NOT Torch_FOUND)
  message(FATAL_ERROR
    "signin-torch: libtorch was not found.\n"
    "Looked in: LIBTORCH=$ENV{LIBTORCH}, Torch_DIR=$ENV{Torch_DIR}, "
    "the cmake prefix of ${_signin_python}'s torch package, and the system cmake paths "
    "(/usr/lib/x86_64-linux-gnu/cmake/Torch).\n"
    "Install it with: sudo apt-get install -y libtorch-dev   (Debian/Ubuntu)\n"
    "or point LIBTORCH at an unpacked libtorch, or Torch_DIR at its share/cmake/Torch.")
endif()
get_filename_component(_signin_torch_cmake "${Torch_DIR}/.." ABSOLUTE)
get_filename_component(_signin_caffe2_cmake "${Caffe2_DIR}/.." ABSOLUTE)
if(NOT _signin_torch_cmake STREQUAL _signin_caffe2_cmake)
  message(FATAL_ERROR "signin-torch: TorchConfig (${Torch_DIR}) and Caffe2Config (${Caffe2_DIR}) "
    "come from two libtorch installs; clear the CMake cache or set Torch_DIR.")
endif()
message(STATUS "signin-torch: libtorch ${Torch_VERSION} from ${Torch_DIR}")

set(SIGNIN_WITH_CUDA OFF)
if(TORCH_CUDA_LIBRARIES OR TARGET torch_cuda)
  set(SIGNIN_WITH_CUDA ON)
  message(STATUS "signin-torch: libtorch has CUDA, building the CUDA kernels")
endif()
