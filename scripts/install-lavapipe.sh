#!/usr/bin/env bash
# Give Dawn (npm "webgpu") a software WebGPU adapter on a machine without a GPU: Mesa's lavapipe
# Vulkan driver. Debian bookworm's Mesa 22.3 is too old for Dawn (no adapter); Mesa 25 from
# bookworm-backports works. Other Debian/Ubuntu releases: their own mesa-vulkan-drivers (Mesa ≥ 24
# since trixie and Ubuntu 24.04). Needs root (or sudo) and the Debian archive; ~40 MB download.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
command -v apt-get >/dev/null || { echo "install-lavapipe: needs apt-get (Debian or Ubuntu)" >&2; exit 1; }
. /etc/os-release
target=()
if [ "${VERSION_CODENAME:-}" = bookworm ]; then
  if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
      $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
  fi
  target=(-t bookworm-backports)
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${target[@]}" mesa-vulkan-drivers libvulkan1 >/dev/null
echo "install-lavapipe: $(dpkg-query -W -f='mesa-vulkan-drivers ${Version}, libvulkan1 ' mesa-vulkan-drivers)$(dpkg-query -W -f='${Version}' libvulkan1)"
