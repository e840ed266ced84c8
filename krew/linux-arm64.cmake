# CMake toolchain for the linux/arm64 release archive, cross-built on a
# Debian amd64 machine: `dpkg --add-architecture arm64`, then
# crossbuild-essential-arm64 and libcurl4-openssl-dev:arm64 libyaml-dev:arm64
# libcjson-dev:arm64 (tests/cluster/deps.sh installs them). Multiarch keeps
# arm64 libraries in /usr/lib/aarch64-linux-gnu and their arch-specific
# headers in /usr/include/aarch64-linux-gnu, which CMake searches through
# CMAKE_LIBRARY_ARCHITECTURE.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# pkg-config must read the arm64 .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
