-- Seed 000 with its `search` evaluated literally: a row must hold each term as a whole term (`has`:
-- case-insensitive, bounded by characters that are not Unicode letters or digits, or by the ends) in at
-- least one of its string or dynamic columns. Not the benchmark baseline: it exists to check on data that
-- dropping the search in seed000.sql (implied by the equality filters) changes nothing. Same result as
-- seed000.sql.
WITH ev AS (
    SELECT
        lower(InitiatingProcessFileName) AS InitiatingProcessFileName,
        InitiatingProcessMD5, DeviceId, InitiatingProcessCommandLine, RemoteIP, RemotePort,
        -- octets of a dotted-quad IPv4 address ('' when RemoteIP is anything else)
        regexp_extract(RemoteIP, '^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$', ['a', 'b', 'c', 'd']) AS o,
        -- every string/dynamic column, space-separated (a space bounds terms like any non-alphanumeric)
        concat_ws(' ',
            DeviceId, DeviceName, ActionType, RemoteIP, RemoteUrl, LocalIP, Protocol, LocalIPType,
            RemoteIPType, InitiatingProcessSHA1, InitiatingProcessSHA256, InitiatingProcessMD5,
            InitiatingProcessFileName, InitiatingProcessVersionInfoCompanyName,
            InitiatingProcessVersionInfoProductName, InitiatingProcessVersionInfoProductVersion,
            InitiatingProcessVersionInfoInternalFileName, InitiatingProcessVersionInfoOriginalFileName,
            InitiatingProcessVersionInfoFileDescription, InitiatingProcessCommandLine,
            InitiatingProcessFolderPath, InitiatingProcessParentFileName, InitiatingProcessAccountDomain,
            InitiatingProcessAccountName, InitiatingProcessAccountSid, InitiatingProcessAccountUpn,
            InitiatingProcessAccountObjectId, InitiatingProcessIntegrityLevel,
            InitiatingProcessTokenElevation, AppGuardContainerId, AdditionalFields,
            InitiatingProcessRemoteSessionDeviceName, InitiatingProcessRemoteSessionIP,
            InitiatingProcessUniqueId) AS all_text
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
    WHERE regexp_matches(all_text, '(?:^|[^\p{L}\p{N}])tcp(?:$|[^\p{L}\p{N}])', 'i')
      AND regexp_matches(all_text, '(?:^|[^\p{L}\p{N}])connectionsuccess(?:$|[^\p{L}\p{N}])', 'i')
      AND regexp_matches(all_text, '(?:^|[^\p{L}\p{N}])public(?:$|[^\p{L}\p{N}])', 'i')
      AND NOT coalesce(
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
