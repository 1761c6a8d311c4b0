-- Lua filters that follow the gen3-cwlogs wasm filter in Fluent Bit.
--
-- filter_wasm can return only one record, so the module returns one object
-- {"records": [{"kind", "route", "time", "record"}, ...], "counters": {...}}.
-- `split` turns it into one record per entry; `set_time` then gives each
-- record its own time (Fluent Bit gives every record of a split the same
-- time, so this needs a second filter). Both run with enable_flb_null on, so
-- JSON nulls inside documents survive the round trip through Lua.

-- One record per entry, tagged for routing by rewrite_tag:
-- _cwlogs_kind (document|alert|error) and _cwlogs_route (commons name).
function split(tag, timestamp, record)
    local entries = record["records"]
    if type(entries) ~= "table" then
        -- Not the module's result (it always has "records"): keep it as it
        -- is; the pipeline's dead letter for unsplit records takes it.
        return 0, timestamp, record
    end
    local out = {}
    for i = 1, #entries do
        local entry = entries[i]
        local doc = type(entry) == "table" and entry["record"] or nil
        if type(doc) == "table" then
            doc["_cwlogs_kind"] = entry["kind"]
            doc["_cwlogs_route"] = entry["route"] or "unknown"
            doc["_cwlogs_time_ms"] = entry["time_ms"]
            out[#out + 1] = doc
        end
    end
    if #out == 0 then
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
-- unchanged (every document of the delivery at its arrival time, in the
-- wrong index, _cwlogs_time_ms stored). The decoder never emits such a time
-- (its range is this one), and this function refuses one anyway: it can
-- fail on no record.
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
