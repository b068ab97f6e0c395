#!/usr/bin/env bash
# Installs the system programs the tests drive for real: ffmpeg/ffprobe
# (publisher, transcoder, probe), nginx (CDN edge test) and wrk (origin
# benchmark). Does nothing for programs already installed.
set -euo pipefail
missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
# Debian starts nginx as a service on install; the tests run their own.
$SUDO service nginx stop >/dev/null 2>&1 || true
