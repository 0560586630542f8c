-- Seed 004: suspicious network beacons (Cyb3rMonk). Hand-written DuckDB SQL; {{lake}} and {{now}} are
-- substituted by the harness. Needs the UDF series_outliers(BIGINT[]) -> DOUBLE[] (Kusto's ctukey scores),
-- registered by the harness. Statements run in order; the last one returns the result.
--
-- Parameters of the hunt: starttime = 1d, endtime = 1s, TotalEventsThresholdMin = 15,
-- TotalEventsThresholdMax = toint((1d - 1s) / 1ms) = 86399000, JitterThreshold = 50,
-- OutlierThresholdMax = 2, OutlierCountMax = 3, CompromisedDeviceCountMax = 10.
--
-- Semantics kept on purpose:
-- * make_set(Timestamp): the beacon series is the sorted DISTINCT timestamps of a group.
-- * mv-apply + next(): the last element's next() values are null and `nextRemotePort == RemotePort`
--   is then false (Kusto: null == value is false), so the last timestamp is dropped: count_ = N - 1,
--   max_Timestamp is the second-to-last timestamp, TimeDeltaList has N - 1 entries. A group whose
--   RemotePort is null loses every element (null == null is null) and vanishes.
-- * datetime_diff('second', b, a) counts second boundaries crossed = DuckDB date_diff('second', a, b).
-- * percentiles are nearest-rank: element ceil(p * n / 100) of the sorted deltas.
-- * series_stats: *_min_index / *_max_index are the first positions of the extremes; stdev and
--   variance are the sample (n - 1) ones.
-- * ipv4_is_private() is null for anything that is not IPv4 (IPv6, garbage), and `where not(null)`
--   drops the row. It accepts an optional /prefix suffix.
-- * BeaconCandidates is leftouter-joined to Domains on RemoteIP; every candidate's RemoteIP occurs in the
--   (wider) Domains window, and only those RemoteIPs matter, so Domains is computed for them only.
-- * The output's RemoteIP2 is BeaconCandidates' RemoteIP renamed by the PotentialBeacons join (RemoteIP1 is
--   taken by the Domains join's right key and then removed by `project-away *1`).
-- * ImpossibleBeaconsByTimeDelta + leftantisemi join: PotentialBeacons rows are unique on the seven join
--   keys, so the anti join is a per-row test "more than 3 deltas score > 2 or < -3".

-- BeaconCandidates, in one scan of the lake that reads only the eight columns the groups need plus the
-- filter columns. Counting rows is a cheap upper bound of the distinct timestamps, so only groups with more
-- than 15 rows keep their series; the per-address IPv4 test then runs once per group, not per row
-- (MATERIALIZED keeps the optimizer from pushing it below the aggregate).
CREATE OR REPLACE TEMP TABLE beacons AS
WITH series AS MATERIALIZED (
    SELECT DeviceId, DeviceName, InitiatingProcessAccountName, InitiatingProcessAccountDomain,
           InitiatingProcessFileName, RemoteIP, RemotePort, list_sort(list(Timestamp)) AS sorted_ts
    FROM read_parquet('{{lake}}/DeviceNetworkEvents/**/*.parquet')
    WHERE Timestamp BETWEEN {{now}} - INTERVAL 1 DAY AND {{now}} - INTERVAL 1 SECOND
      AND RemoteIPType NOT IN ('Reserved', 'Private', 'LinkLocal', 'Loopback')
      AND RemoteIP <> '' AND RemoteIP <> '0.0.0.0'
      AND ActionType IN ('ConnectionSuccess', 'CsonnectionRequest', 'CsonnectionFailed')
      AND RemotePort IS NOT NULL
    GROUP BY ALL
    HAVING count(*) > 15
), eligible AS (
    -- `not(ipv4_is_private(ip))` holds iff ip is IPv4 prefix notation (four octets of 1-3 digits, each
    -- 0-255, optional /0-32; leading zeros are decimal) whose range does not lie inside 10/8, 172.16/12
    -- or 192.168/16. make_set: drop repeated timestamps from the sorted series.
    SELECT * EXCLUDE (sorted_ts),
           list_filter(sorted_ts, lambda x, i: i = 1 OR x <> sorted_ts[i - 1]) AS ts
    FROM series
    WHERE regexp_full_match(RemoteIP,
              '(?:25[0-5]|2[0-4]\d|[01]?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|[01]?\d?\d)){3}'
              || '(?:/(?:3[0-2]|[0-2]?\d))?')
      AND NOT regexp_full_match(RemoteIP,
              '0?10\.[0-9.]+(?:/(?:0?[89]|[12]\d|3[0-2]))?'
              || '|172\.0?(?:1[6-9]|2\d|3[01])\.[0-9.]+(?:/(?:1[2-9]|2\d|3[0-2]))?'
              || '|192\.168\.[0-9.]+(?:/(?:1[6-9]|2\d|3[0-2]))?')
), sized AS (   -- 15 < array_length(set_Timestamp) < TotalEventsThresholdMax
    SELECT * FROM eligible WHERE len(ts) > 15 AND len(ts) < 86399000
), deltas AS (
    SELECT *, [date_diff('second', ts[i], ts[i + 1]) for i in range(1, len(ts))] AS TimeDeltaList
    FROM sized
), stats AS (
    SELECT *, list_sort(TimeDeltaList) AS sorted, len(TimeDeltaList) AS n,
           list_min(TimeDeltaList) AS dmin, list_max(TimeDeltaList) AS dmax,
           list_sum(TimeDeltaList)::DOUBLE AS dsum, list_sum([x * x for x in TimeDeltaList])::DOUBLE AS dsq
    FROM deltas
), moments AS (   -- series_stats' sample variance: (n * sum(x^2) - sum(x)^2) / (n * (n - 1)), in doubles
    SELECT *, dsum / n AS davg, greatest((n * dsq - dsum * dsum) / (n * (n - 1)), 0.0) AS dvar
    FROM stats
), spread AS (
    SELECT *, sqrt(dvar) AS dstdev FROM moments
), cand AS (
    SELECT
        DeviceId, DeviceName, InitiatingProcessAccountName, InitiatingProcessAccountDomain,
        InitiatingProcessFileName, RemoteIP, RemotePort,
        n::BIGINT AS count_,
        ts[1] AS min_Timestamp,
        ts[n] AS max_Timestamp,
        date_diff('second', ts[1], ts[n]) AS Duration,
        sorted[(5 * n + 99) // 100] AS percentile_TimeDeltaInSeconds_5,
        sorted[(25 * n + 99) // 100] AS percentile_TimeDeltaInSeconds_25,
        sorted[(50 * n + 99) // 100] AS percentile_TimeDeltaInSeconds_50,
        sorted[(75 * n + 99) // 100] AS percentile_TimeDeltaInSeconds_75,
        sorted[(95 * n + 99) // 100] AS percentile_TimeDeltaInSeconds_95,
        TimeDeltaList,
        dmin::DOUBLE AS TimeDeltaInSeconds_min,
        (list_position(TimeDeltaList, dmin) - 1)::BIGINT AS TimeDeltaInSeconds_min_index,
        dmax::DOUBLE AS TimeDeltaInSeconds_max,
        (list_position(TimeDeltaList, dmax) - 1)::BIGINT AS TimeDeltaInSeconds_max_index,
        davg AS TimeDeltaInSeconds_avg,
        dstdev AS TimeDeltaInSeconds_stdev,
        dvar AS TimeDeltaInSeconds_variance,
        dstdev / davg * 100 AS Jitter,
        davg - dstdev AS BeaconSleepMin,
        davg + dstdev AS BeaconSleepMax
    FROM spread
    WHERE dstdev / davg * 100 < 50
)
SELECT * FROM cand;

-- Domains of the candidates' addresses (leftouter join on RemoteIP): the URL -> domain work runs once per
-- distinct URL, the set per address over distinct (RemoteIP, RemoteUrl) pairs.
CREATE OR REPLACE TEMP TABLE bc AS
WITH pairs AS MATERIALIZED (
    SELECT DISTINCT RemoteIP, RemoteUrl
    FROM read_parquet('{{lake}}/DeviceNetworkEvents/**/*.parquet')
    WHERE Timestamp > {{now}} - INTERVAL 2 DAY
      AND RemoteIP IN (SELECT RemoteIP FROM beacons)
), urls AS (
    SELECT RemoteUrl,
           -- Host of parse_url(RemoteUrl, or 'http://' + RemoteUrl when it does not start with "http"),
           -- then reverse / keep three labels / reverse: the last three labels of the host
           reverse(regexp_replace(reverse(coalesce(regexp_extract(
               CASE WHEN starts_with(lower(RemoteUrl), 'http') THEN RemoteUrl ELSE 'http://' || RemoteUrl END,
               '^[A-Za-z][A-Za-z0-9+.\-]*://(?:[^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)', 1), '')),
               '([A-z0-9-]+\.[A-z0-9-]+\.[A-z0-9-]+)\..*', '\1', 'g')) AS domain
    FROM (SELECT DISTINCT RemoteUrl FROM pairs)
), domains AS (
    SELECT RemoteIP, list(DISTINCT domain) AS Domains
    FROM pairs JOIN urls USING (RemoteUrl)
    GROUP BY RemoteIP
)
SELECT b.*, d.RemoteIP AS RemoteIP1, d.Domains
FROM beacons b LEFT JOIN domains d USING (RemoteIP);

-- PotentialBeacons minus ImpossibleBeaconsByTimeDelta, in Kusto's column order.
WITH pb AS (
    SELECT *, count(DISTINCT DeviceId) OVER (PARTITION BY InitiatingProcessFileName, RemoteIP, RemotePort)
              AS dcount_DeviceId
    FROM bc
)
SELECT
    InitiatingProcessFileName, RemoteIP, RemotePort, dcount_DeviceId,
    DeviceId, DeviceName, InitiatingProcessAccountName, InitiatingProcessAccountDomain,
    RemoteIP AS RemoteIP2,
    count_, min_Timestamp, max_Timestamp, Duration,
    percentile_TimeDeltaInSeconds_5, percentile_TimeDeltaInSeconds_25, percentile_TimeDeltaInSeconds_50,
    percentile_TimeDeltaInSeconds_75, percentile_TimeDeltaInSeconds_95,
    to_json(TimeDeltaList) AS TimeDeltaList,
    TimeDeltaInSeconds_min, TimeDeltaInSeconds_min_index, TimeDeltaInSeconds_max,
    TimeDeltaInSeconds_max_index, TimeDeltaInSeconds_avg, TimeDeltaInSeconds_stdev,
    TimeDeltaInSeconds_variance, Jitter, BeaconSleepMin, BeaconSleepMax,
    to_json(Domains) AS Domains,
    min_Timestamp AS Timestamp
FROM pb
WHERE dcount_DeviceId <= 10
  AND len(list_filter(series_outliers(TimeDeltaList), lambda x: x > 2 OR x < -3)) <= 3
ORDER BY Jitter ASC NULLS FIRST, TimeDeltaInSeconds_avg ASC NULLS FIRST;
