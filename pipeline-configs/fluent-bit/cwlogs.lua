-- Lua filters that follow the gen3-cwlogs wasm filter in Fluent Bit.
--
-- filter_wasm can return only one record, so the module returns one object
-- {"_cwlogs_kind": "result", "records": [{"kind", "time_ms", "json"}, ...],
-- "counters": {...}}, where "json" is each entry's record as JSON text.
-- `split` turns it into one record per entry, `set_time` then gives each
-- record its own time (Fluent Bit gives every record of a split the same
-- time, and a Lua filter returns one time per call, so this takes a second
-- filter), and the pipeline's `parser` filter (format json, key_name
-- _cwlogs_json) makes each text the record itself.
--
-- Documents stay text here on purpose: turning a record into Lua tables and
-- back is what Lua filters spend their time on, and each document would go
-- through that twice. Strings are copied, not walked.

-- One record per entry: {_cwlogs_time_ms = <ms or nil>, _cwlogs_json = <text>}.
function split(tag, timestamp, record)
    local entries = record["records"]
    if type(entries) ~= "table" then
        -- Not the module's result (it always has "records"): keep it as it
        -- is; the pipeline's dead letter for unsplit records takes it.
        return 0, timestamp, record
    end
    local out = {}
    local n = 0
    for i = 1, #entries do
        local entry = entries[i]
        if type(entry) == "table" and type(entry["json"]) == "string" then
            n = n + 1
            out[n] = {_cwlogs_time_ms = entry["time_ms"], _cwlogs_json = entry["json"]}
        end
    end
    if n == 0 then
        -- Only CONTROL_MESSAGEs: nothing to store (they are counted).
        return -1, timestamp, record
    end
    -- 2: keep the input's time for now; set_time sets each record's own.
    return 2, timestamp, out
end

-- The record's own time when it has one, otherwise the time it arrived.
-- Runs with time_as_table on: the time goes back as seconds + nanoseconds,
-- exact (a fractional second would be truncated 1 ms early).
--
-- Fluent Bit keeps a time as unsigned 32-bit seconds: returning one outside
-- them makes the call fail, and Fluent Bit then passes the WHOLE chunk on
-- unchanged (every document of the delivery at its arrival time, as text,
-- _cwlogs_time_ms stored). The decoder never emits such a time (its range
-- is this one), and this function refuses one anyway: it can fail on no
-- record.
local MAX_MILLIS = 4294967295999

function set_time(tag, timestamp, record)
    local millis = record["_cwlogs_time_ms"]
    if millis == nil then
        return 0, timestamp, record
    end
    record["_cwlogs_time_ms"] = nil
    if type(millis) ~= "number" or millis ~= millis or millis < 0 or millis > MAX_MILLIS then
        -- 2: the record changed (the field is gone), its time did not.
        return 2, timestamp, record
    end
    millis = math.floor(millis)
    local seconds = math.floor(millis / 1000)
    return 1, {sec = seconds, nsec = (millis - seconds * 1000) * 1000000}, record
end
