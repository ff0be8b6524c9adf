#!/usr/bin/env bash
# Back up a TraceGraph Neo4j database with `neo4j-admin database dump`, plus the audit trail and
# access file (SQLite online backup), into one owner-only directory with SHA-256 checksums.
#
# Neo4j Community dumps a *stopped* database: the script stops what it must and starts it again.
# (Enterprise has online `neo4j-admin database backup`; while the server runs, a logical backup is
# also possible with no downtime: tracegraph --store neo4j://… copy --to sqlite:///backup.db.)
#
#   scripts/neo4j-backup.sh --to /backups/2024-03-01              # a server install (neo4j-admin on PATH or in $NEO4J_HOME/bin)
#   scripts/neo4j-backup.sh --compose --to /backups/2024-03-01    # the docker compose deployment
#
# Options: --database NAME (default neo4j), --audit FILE and --access FILE (default: $TRACEGRAPH_AUDIT,
# and tracegraph-access.db beside it; in --compose mode they are read from the audit-data volume),
# --no-stop (a server install that is already stopped, or a dump you schedule yourself).
# Restore: neo4j-admin database load NAME --from-path=DIR --overwrite-destination=true (server stopped),
# then check the checksums and `tracegraph audit verify --file DIR/tracegraph-audit.db`.
set -euo pipefail
umask 077

database=neo4j
target=""
compose=false
stop=true
audit="${TRACEGRAPH_AUDIT:-}"
access="${TRACEGRAPH_ACCESS:-}"

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "neo4j-backup: $*" >&2; exit 2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --to) target="${2:?--to needs a directory}"; shift 2 ;;
    --database) database="${2:?--database needs a name}"; shift 2 ;;
    --audit) audit="${2:?--audit needs a file}"; shift 2 ;;
    --access) access="${2:?--access needs a file}"; shift 2 ;;
    --compose) compose=true; shift ;;
    --no-stop) stop=false; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ -n "$target" ]] || die "say where: --to DIR"
[[ "$database" =~ ^[A-Za-z0-9._-]+$ ]] || die "--database: '$database' is not a database name"
if $compose; then
  command -v docker >/dev/null || die "--compose needs docker"
else
  admin="$(command -v neo4j-admin || true)"
  [[ -n "$admin" ]] || admin="${NEO4J_HOME:-}/bin/neo4j-admin"
  [[ -x "$admin" ]] || die "neo4j-admin not found: put it on PATH or set NEO4J_HOME"
fi
mkdir -p "$target"
chmod 700 "$target"
target="$(cd "$target" && pwd)"
[[ -z "$(ls -A "$target")" ]] || die "$target is not empty: back up into a new directory"

sqlite_backup() {  # FILE NAME: an online, consistent copy of a SQLite file
  local source="$1" name="$2"
  [[ -f "$source" ]] || { echo "  (no $name at $source: skipped)"; return 0; }
  if command -v sqlite3 >/dev/null; then
    sqlite3 "$source" ".backup '$target/$name'"
  else
    python3 - "$source" "$target/$name" <<'PY'
import sqlite3, sys
src, dst = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
src.backup(dst); dst.close(); src.close()
PY
  fi
  echo "  $name"
}

if $compose; then
  echo "stopping the API and Neo4j (Community dumps a stopped database) …"
  docker compose stop tracegraph neo4j
  trap 'echo "starting Neo4j and the API again …"; docker compose start neo4j tracegraph' EXIT
  docker compose run --rm --no-deps -v "$target:/backups" --entrypoint neo4j-admin neo4j \
    database dump "$database" --to-path=/backups
  echo "copying the audit trail and access file from the audit volume …"
  docker compose run --rm --no-deps -v "$target:/backups" --entrypoint sh tracegraph -c '
    set -e; cd /data/audit
    for f in tracegraph-audit.db tracegraph-access.db; do
      [ -f "$f" ] && python -c "import sqlite3,sys; s=sqlite3.connect(sys.argv[1]); d=sqlite3.connect(sys.argv[2]); s.backup(d)" "$f" "/backups/$f" && echo "  $f"
    done; true'
else
  neo4j="$(dirname "$admin")/neo4j"
  if $stop; then
    echo "stopping Neo4j (Community dumps a stopped database) …"
    "$neo4j" stop
    trap 'echo "starting Neo4j again …"; "$neo4j" start' EXIT
  fi
  "$admin" database dump "$database" --to-path="$target"
  if [[ -n "$audit" ]]; then
    echo "copying the audit trail and access file …"
    sqlite_backup "$audit" "$(basename "$audit")"
    [[ -n "$access" ]] || access="$(dirname "$audit")/tracegraph-access.db"
    sqlite_backup "$access" "$(basename "$access")"
  else
    echo "  no TRACEGRAPH_AUDIT or --audit: the audit trail was not copied (back it up too)" >&2
  fi
fi

( cd "$target" && sha256sum -- * > SHA256SUMS )
chmod 600 "$target"/*
echo "backed up to $target:"
cat "$target/SHA256SUMS"
