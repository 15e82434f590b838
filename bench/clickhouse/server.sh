# Sourced by the benchmarks that need a ClickHouse server of their own (bench/clickhouse/run.sh,
# bench/clickhouse/final_cost.sh, bench/ingest/run.sh): one temporary clickhouse-server 18.16 on
# free ports with its data, logs and config in a folder, 2 query threads (the machine's cores).
#
#   start_clickhouse DIR [MAX_MEMORY_BYTES]
# sets ch_http, ch_tcp and ch_pid, and returns once the server answers /ping; the caller stops it
# (kill "$ch_pid") and removes DIR. Needs bench/lib.sh sourced first (free_port, wait_http).

start_clickhouse() {
  local dir="$1" max_memory="${2:-4000000000}"
  mkdir -p "$dir"/{data,tmp,log,user_files,format_schemas}
  ch_http=$(free_port)
  ch_tcp=$(free_port)
  cat > "$dir/config.xml" <<XML
<yandex>
  <logger><level>warning</level><log>$dir/log/server.log</log><errorlog>$dir/log/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host><http_port>$ch_http</http_port><tcp_port>$ch_tcp</tcp_port>
  <path>$dir/data/</path><tmp_path>$dir/tmp/</tmp_path><user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path><users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile><default_database>default</default_database>
  <mark_cache_size>1073741824</mark_cache_size>
</yandex>
XML
  cat > "$dir/users.xml" <<XML
<yandex>
  <profiles><default><max_threads>2</max_threads><max_memory_usage>$max_memory</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
  clickhouse-server --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1 &
  ch_pid=$!
  wait_http "http://127.0.0.1:$ch_http/ping" && return 0
  echo "clickhouse-server did not start; see $dir/log" >&2
  return 1
}
