# tests/server/common.sh: paths shared by the test bed scripts (sourced).
#   MONGO_PIPES_CACHE  downloaded jars, compiled launcher, mongo-tools
#                      (default ~/.cache/mongo-pipes, reused across runs)
#   MP_SERVER_DIR      pid, port and log files of running servers
MP_CACHE=${MONGO_PIPES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mongo-pipes}
MP_SERVER_DIR=${MP_SERVER_DIR:-${TMPDIR:-/tmp}/mongo-pipes-servers-$(id -u)}
MP_JAVA_DIR=$MP_CACHE/java
MP_SERVER_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
