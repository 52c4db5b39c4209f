#!/usr/bin/env bash
# Installs the Debian packages the tests need, only when missing:
#   ffmpeg (ffprobe/ffmpeg validate every media output), nasm (openh264's fast assembly path),
#   wordnet-base (the data scripts/lexicon.py derives the engine's lexicon from),
#   chromium + chromium-driver (the studio's browser test drives headless chromium).
set -euo pipefail
missing=()
command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
command -v nasm >/dev/null 2>&1 || missing+=(nasm)
[ -f /usr/share/wordnet/data.noun ] || missing+=(wordnet-base)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing Debian packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
