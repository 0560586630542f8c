-- Seed 000 (Defender variant): rare or low-prevalence outgoing, successful IPv4 connections from
-- non-browser processes. Hand-written DuckDB SQL; {{lake}} and {{now}} are substituted by the harness.
-- Needs the scalar UDF geo_info_from_ip_address(VARCHAR) -> VARCHAR (JSON text), registered by the harness.
-- The Sentinel variant of the hunt differs only in filtering TimeGenerated instead of Timestamp;
-- tests/reference/seeds_sql.py derives it from this file ("000_sentinel").
--
-- `search in (DeviceNetworkEvents) "tcp" and "connectionsuccess" and "public"` keeps rows where each term
-- is a whole term (`has`, case-insensitive) of some column. It is implied by the later
-- `where Protocol == "Tcp" and ActionType == "ConnectionSuccess" and RemoteIPType == "Public"`: each
-- pinned value is exactly the search term up to case. So the search is dropped here instead of testing
-- `has` across all 45 columns (which would also defeat column pruning); seed000_search.sql keeps it
-- literally and must return the same rows.
--
-- `ipv4_lookup(ExcludedNets, RemoteIP, ExcludedNet, return_unmatched = true) | where isempty(ExcludedNet)`
-- keeps exactly the rows whose RemoteIP is in neither CIDR; addresses that are not IPv4 never match a
-- range, so they stay.
WITH ev AS (
    SELECT
        lower(InitiatingProcessFileName) AS InitiatingProcessFileName,
        InitiatingProcessMD5, DeviceId, InitiatingProcessCommandLine, RemoteIP, RemotePort,
        -- octets of a dotted-quad IPv4 address ('' when RemoteIP is anything else)
        regexp_extract(RemoteIP, '^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$', ['a', 'b', 'c', 'd']) AS o
    FROM read_parquet('{{lake}}/DeviceNetworkEvents/**/*.parquet')
    WHERE Protocol = 'Tcp' AND ActionType = 'ConnectionSuccess' AND RemoteIPType = 'Public'
      AND Timestamp > {{now}} - INTERVAL 30 DAY
      AND RemoteUrl = ''
      AND InitiatingProcessFileName ILIKE '%.exe'                      -- endswith is case-insensitive
      AND NOT regexp_matches(InitiatingProcessFileName, '^(msedge|chrome|firefox)\.exe$', 'i')
      -- Kusto: null in (80, 443) is false, so a row without a port survives `not(... in ...)`
      AND (RemotePort IS NULL OR RemotePort NOT IN (80, 443))
), kept AS (
    SELECT * FROM ev
    WHERE NOT coalesce(
        o.a <> '' AND TRY_CAST(o.b AS INT) <= 255 AND TRY_CAST(o.c AS INT) <= 255
        AND TRY_CAST(o.d AS INT) <= 255
        AND ((TRY_CAST(o.a AS INT) = 100 AND TRY_CAST(o.b AS INT) = 0)                  -- 100.0.0.0/16
             OR (TRY_CAST(o.a AS INT) = 200 AND TRY_CAST(o.b AS INT) = 200
                 AND TRY_CAST(o.c AS INT) = 200)),                                     -- 200.200.200.0/24
        false)
), agg AS (
    SELECT
        InitiatingProcessFileName,
        to_json(list(DISTINCT InitiatingProcessMD5)) AS Hashes,
        count(DISTINCT DeviceId) AS DeviceCount,
        -- any() of a string returns a non-empty value when the group has one
        coalesce(any_value(nullif(InitiatingProcessCommandLine, '')), '') AS SampleProcess,
        coalesce(any_value(nullif(RemoteIP, '')), '') AS SampleRemoteIP,
        to_json(coalesce(list(DISTINCT RemotePort) FILTER (WHERE RemotePort IS NOT NULL), [])) AS Ports
    FROM kept
    GROUP BY InitiatingProcessFileName
    HAVING count(DISTINCT DeviceId) < 4
)
SELECT
    InitiatingProcessFileName, Hashes, DeviceCount, SampleProcess, SampleRemoteIP, Ports,
    coalesce(json_extract_string(geo_info_from_ip_address(SampleRemoteIP), '$.country'), '')
        AS RemoteIP_country
FROM agg
ORDER BY DeviceCount ASC NULLS FIRST;
