#!/usr/bin/env bash
# check-deb.sh : builds bertscope's .deb (`cpack -G DEB` in BUILD_DIR, default build/), runs lintian on it, then
# installs it with `apt-get install ./bertscope_*.deb` in a brand-new Debian 12 (../shared/tools/fresh-machine.sh,
# as root) and checks there that
#   - `bertscope-cli fill-mask default` answers from /usr/share/bertscope (and fails, naming BERTSCOPE_DATA_DIR,
#     when that folder is moved away: no path into a source tree is compiled in);
#   - `bertscope` starts under Xvfb with the default model (it saves a screenshot of every view, then quits);
#   - `man bertscope-cli` and `man bertscope` work, and bash completes bertscope-cli's commands;
#   - desktop-file-validate and `appstreamcli validate` pass;
#   - `apt-get remove bertscope` leaves none of its files behind.
# Prints the time of each step. `check-deb.sh --build-only` stops after lintian (no root needed);
# `check-deb.sh --inside DEB` is the part that runs in the fresh machine.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export DEBIAN_FRONTEND=noninteractive

# The checks in the fresh machine, as root. Xvfb, man-db and the validators are what a desktop (or this check)
# brings, not bertscope's dependencies, so they are installed before the package.
inside() {
  local deb=$1 start=$SECONDS
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends xvfb xauth man-db desktop-file-utils appstream bash-completion \
    >/dev/null
  echo "check-deb: fresh machine: the checkers installed in $((SECONDS - start)) s"
  start=$SECONDS
  apt-get install -y -qq "$deb" >/dev/null  # with Recommends, as apt installs by default
  echo "check-deb: fresh machine: apt-get install ./$(basename "$deb") took $((SECONDS - start)) s"
  dpkg -L bertscope | sort >/tmp/bertscope-files
  echo "check-deb: installed $(wc -l </tmp/bertscope-files) paths; Depends: $(dpkg-query -W -f='${Depends}' bertscope)"
  echo "check-deb: libopenblas.so.0 is $(readlink -f /usr/lib/x86_64-linux-gnu/libopenblas.so.0)"

  cd /tmp
  start=$SECONDS
  bertscope-cli --version
  bertscope-cli fill-mask default --text "The cat sat on the [MASK]." --top-k 3 >fill.json 2>fill.err
  cat fill.err fill.json
  grep -q '^bertscope: /usr/share/bertscope/default-model on ' fill.err
  grep -q '"token_str"' fill.json
  mv /usr/share/bertscope /usr/share/bertscope.away
  if bertscope-cli fill-mask default --text "A [MASK]." >/dev/null 2>away.err; then
    echo "check-deb: FAIL: bertscope-cli found a default model without /usr/share/bertscope"; exit 1
  fi
  mv /usr/share/bertscope.away /usr/share/bertscope
  grep -q BERTSCOPE_DATA_DIR away.err
  echo "check-deb: ok: fill-mask default answers from /usr/share/bertscope; without it: $(cat away.err)"

  timeout 600 xvfb-run -a -s "-screen 0 1280x1024x24" bertscope --screenshots /tmp/shots
  ls /tmp/shots
  [ "$(find /tmp/shots -name '*.png' | wc -l)" -ge 8 ]
  echo "check-deb: ok: bertscope started under Xvfb on the default model and showed every view"

  man -P cat bertscope-cli >man.txt
  grep -q "fill-mask" man.txt && grep -q "BERTSCOPE_DATA_DIR" man.txt
  man -P cat bertscope | grep -q -- "--backend"
  echo "check-deb: ok: man bertscope-cli ($(wc -l <man.txt) lines) and man bertscope"
  # shellcheck disable=SC1091
  completions=$(bash -c 'source /usr/share/bash-completion/bash_completion
    COMP_WORDS=(bertscope-cli fill); COMP_CWORD=1; COMP_LINE="bertscope-cli fill"; COMP_POINT=${#COMP_LINE}
    _completion_loader bertscope-cli; _bertscope_cli; echo "${COMPREPLY[*]}"')
  [ "$completions" = "fill-mask" ]
  echo "check-deb: ok: bash completes 'bertscope-cli fill' to $completions"

  desktop-file-validate /usr/share/applications/*bertscope*.desktop
  appstreamcli validate --no-net /usr/share/metainfo/*bertscope*.metainfo.xml
  echo "check-deb: ok: desktop-file-validate and appstreamcli validate"
  echo "check-deb: fresh machine: the checks took $((SECONDS - start)) s"

  apt-get remove -y -qq bertscope >/dev/null
  local left=0
  while read -r path; do
    # Directories other packages share (/usr/share/icons/hicolor/...) may stay; files and bertscope's own may not.
    if [ -e "$path" ] && { [ ! -d "$path" ] || [[ $path == *bertscope* ]]; }; then echo "left behind: $path"; left=1; fi
  done </tmp/bertscope-files
  # Besides the user's own (/root) and man-db's cache of pages it formatted (/var/cache/man, pruned by mandb).
  if find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /tmp -o -path /root -o -path /work \
       -o -path /var/cache/man \) -prune -o -name '*bertscope*' -print | grep .; then left=1; fi
  [ $left = 0 ]
  echo "check-deb: ok: apt-get remove bertscope left none of its files" \
    "(man-db's cache: $(find /var/cache/man -name '*bertscope*' | tr '\n' ' '))"
}

if [ "${1:-}" = "--inside" ]; then
  inside "$2"
  exit
fi

step() { echo "check-deb: $1 took $((SECONDS - $2)) s"; }
build=${BUILD_DIR:-$repo/build}
fresh=${FRESH_MACHINE:-$repo/../shared/tools/fresh-machine.sh}
sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"

start=$SECONDS
"$repo/scripts/install-deps.sh"
# Packaging tools: man pages (help2man), dependencies (dpkg-shlibdeps, which CPack runs through `file`), lintian;
# debootstrap for the fresh machine.
missing=()
for p in help2man dpkg-dev file lintian; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ "${1:-}" = "--build-only" ] || dpkg -s debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
step "installing the tools" $start

start=$SECONDS
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
# Only what the package holds (the tests are not in it): the programs, their man pages, the changelog.
cmake --build "$build" --target bertscope bertscope-cli bertscope_man bertscope_changelog
rm -f "$build"/bertscope_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/bertscope_*.deb)
step "building $(basename "$deb") ($(du -h "$deb" | cut -f1))" $start

start=$SECONDS
lintian --info --display-info --fail-on error "$deb" || { echo "check-deb: FAIL: lintian found errors"; exit 1; }
step "lintian (no errors)" $start
[ "${1:-}" = "--build-only" ] && exit 0

# The fresh machine gets a folder with the .deb and this script as its ../shared.
start=$SECONDS
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$deb" "$0" "$stage/"
$sudo env SHARED_DIR="$stage" "$fresh" "$repo" "bash /work/shared/check-deb.sh --inside /work/shared/$(basename "$deb")"
step "the fresh Debian 12 machine (install, checks, remove)" $start
echo "check-deb: all checks passed"
