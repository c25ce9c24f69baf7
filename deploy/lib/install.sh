# Shared by deploy/vigil-relay and deploy/vigil-hub (sourced; set prog first): messages, and writers that
# change only what differs, so running an installer twice changes nothing and says so.
# shellcheck shell=bash

say() { printf '%s\n' "$*"; }
die() {
  printf '%s: %s\n' "$prog" "$*" >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------------------
# Small idempotent writers: each says what it changed, and nothing when nothing did.
changed=0
note_change() {
  changed=$((changed + 1))
  say "  changed: $*"
}

# put FILE MODE OWNER:GROUP < content
put() {
  local file=$1 mode=$2 owner=$3 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [ -f "$file" ] && cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
  else
    mkdir -p "$(dirname "$file")"
    install -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$tmp" "$file.new"
    mv -f "$file.new" "$file"
    rm -f "$tmp"
    note_change "$file"
  fi
  # Ownership and mode are part of the state too (a hand edit may have changed them).
  if [ "$(stat -c '%a %U:%G' "$file")" != "$(printf '%o' "$((8#$mode))") $owner" ]; then
    chown "$owner" "$file"
    chmod "$mode" "$file"
    note_change "$file (owner or mode)"
  fi
}

# dir PATH MODE OWNER:GROUP
dir() {
  local path=$1 mode=$2 owner=$3
  if [ ! -d "$path" ]; then
    mkdir -p "$path"
    note_change "$path/"
  fi
  if [ "$(stat -c '%a %U:%G' "$path")" != "$(printf '%o' "$((8#$mode))") $owner" ]; then
    chown "$owner" "$path"
    chmod "$mode" "$path"
    note_change "$path/ (owner or mode)"
  fi
}


# link PATH TARGET: a symlink, replaced atomically when it points elsewhere.
link() {
  local path=$1 target=$2
  if [ "$(readlink "$path" 2>/dev/null)" != "$target" ]; then
    mkdir -p "$(dirname "$path")"
    ln -sfn "$target" "$path.new"
    mv -T "$path.new" "$path"
    note_change "$path → $target"
  fi
}

# install_release BUNDLE OPT PROGRAM: unpacks a release (tarball or folder) into OPT/releases/<version>/, once,
# and points OPT/current at it. An upgrade adds a folder beside the old one; nothing under /var/lib is touched.
install_release() {
  local bundle=$1 opt=$2 program=$3 src version tmp=""
  if [ -d "$bundle" ]; then
    src=$bundle
  else
    [ -f "$bundle" ] || die "no release bundle at $bundle (pass --bundle vigil-<version>.tar.gz)"
    tmp=$(mktemp -d)
    tar -xzf "$bundle" -C "$tmp"
    src=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n 1)
  fi
  [ -f "$src/$program" ] && [ -f "$src/manifest.json" ] && [ -d "$src/deploy" ] ||
    die "$bundle is not a Vigil release (no $program, manifest.json and deploy/)"
  version=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).version)' "$src/manifest.json")
  [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] || die "$bundle: manifest has no usable version"
  local dest="$opt/releases/$version"
  if [ ! -d "$dest" ]; then
    mkdir -p "$opt/releases"
    cp -a "$src" "$dest.new"
    chown -R root:root "$dest.new"
    mv "$dest.new" "$dest"
    note_change "$dest/ (release $version)"
  elif ! diff -rq "$src" "$dest" >/dev/null; then
    die "$dest exists with other contents than $bundle; remove it to reinstall release $version"
  fi
  link "$opt/current" "releases/$version"
  [ -z "$tmp" ] || rm -rf "$tmp"
}

systemd_running() { [ -z "$root" ] && [ -d /run/systemd/system ]; }

node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)'
}
