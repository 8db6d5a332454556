using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Actors.Http.Dashboard;

/// <summary>
/// The dashboard's persisted history: per queue, one point per 10 s, kept <see cref="Retention"/> (24 h) in append-only
/// files under <c>{data}/dashboard-history/</c>, one file per queue per 6-hour period, named
/// <c>{hex of the UTF-8 queue name}.{period}.qh</c> (a path is never built from a name as it stands). A file starts
/// with the magic <c>AQH1</c>; each record is the point's Unix time (uint32), a bit mask of its non-zero values
/// (uint16), those values (float32 each, little-endian) and a 16-bit check of the record, so an idle queue costs 11
/// bytes a point and a busy one at most 52: under 450 KB per queue and day. Whole files age out: a period that ended
/// more than 24 h ago is deleted. At load, a file with a bad header is deleted and one with a bad or cut-off record is
/// cut back to the last good one, each with a warning; reading never throws for what a file holds.
/// </summary>
internal sealed partial class HistoryStore(string directory, ILogger logger)
{
    /// <summary>How long points are kept: 24 h.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    /// <summary>The seconds one file covers: 6 h.</summary>
    public const long PeriodSeconds = 6 * 3600;

    private const string Extension = ".qh";
    private static ReadOnlySpan<byte> Magic => "AQH1"u8;

    /// <summary>The directory of the files.</summary>
    public string Directory { get; } = Path.GetFullPath(directory);

    /// <summary>Appends <paramref name="points"/> (oldest first) to their queue's files.</summary>
    public void Append(string queue, IReadOnlyList<HistoryPoint> points)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var record = new byte[8 + 4 * HistoryPoint.Count];
        FileStream? file = null;
        var period = long.MinValue;
        try
        {
            foreach (var point in points)
            {
                if (Period(point.Time) != period)
                {
                    file?.Dispose();
                    period = Period(point.Time);
                    file = new FileStream(PathOf(queue, period), FileMode.Append, FileAccess.Write, FileShare.Read);
                    if (file.Length == 0) file.Write(Magic);
                }
                file!.Write(record, 0, Encode(point, record));
            }
        }
        finally
        {
            file?.Dispose();
        }
    }

    /// <summary>
    /// The stored points of <paramref name="queue"/> from <paramref name="from"/> until <paramref name="to"/> (Unix
    /// seconds), oldest first: only that queue's files of those periods are opened.
    /// </summary>
    public List<HistoryPoint> Read(string queue, long from, long to)
    {
        var points = new List<HistoryPoint>();
        for (var period = Period(from); period <= Period(to); period++)
        {
            var path = PathOf(queue, period);
            if (File.Exists(path)) points.AddRange(ReadFile(path, period, repair: false).Where(p => p.Time >= from && p.Time <= to));
        }
        return Ordered(points);
    }

    /// <summary>
    /// Every queue's stored points from <paramref name="from"/> on, oldest first, repairing the files it reads (see the
    /// class summary). Used once at start.
    /// </summary>
    public Dictionary<string, List<HistoryPoint>> Load(long from)
    {
        var all = new Dictionary<string, List<HistoryPoint>>(StringComparer.Ordinal);
        foreach (var (path, name, period) in Files())
        {
            if (period < Period(from)) continue;
            if (!all.TryGetValue(name, out var points)) all[name] = points = [];
            points.AddRange(ReadFile(path, period, repair: true).Where(p => p.Time >= from));
        }
        foreach (var name in all.Keys.ToList()) all[name] = Ordered(all[name]);
        return all;
    }

    /// <summary>
    /// Points oldest first, one per time: a node stopped and started within one 10-s step writes that step twice, and
    /// the later point (which saw more of the step) wins.
    /// </summary>
    private static List<HistoryPoint> Ordered(List<HistoryPoint> points)
    {
        var sorted = points.Select((p, i) => (p, i)).OrderBy(x => x.p.Time).ThenBy(x => x.i).Select(x => x.p).ToList();
        var unique = new List<HistoryPoint>(sorted.Count);
        foreach (var p in sorted)
        {
            if (unique.Count > 0 && unique[^1].Time == p.Time) unique[^1] = p;
            else unique.Add(p);
        }
        return unique;
    }

    /// <summary>Deletes the files whose period ended more than <see cref="Retention"/> before <paramref name="now"/> (Unix seconds).</summary>
    public int Prune(long now)
    {
        var oldest = Period(now - (long)Retention.TotalSeconds);
        var deleted = 0;
        foreach (var (path, _, period) in Files())
        {
            if (period >= oldest) continue;
            File.Delete(path);
            deleted++;
        }
        return deleted;
    }

    /// <summary>The period (file) a time falls in.</summary>
    public static long Period(long time) => Math.DivRem(time, PeriodSeconds, out var rest) - (rest < 0 ? 1 : 0);

    /// <summary>The file of a queue's period: the name's UTF-8 bytes in hex, so any name makes a safe file name.</summary>
    public string PathOf(string queue, long period) =>
        Path.Combine(Directory, $"{Convert.ToHexStringLower(Encoding.UTF8.GetBytes(queue))}.{period.ToString(System.Globalization.CultureInfo.InvariantCulture)}{Extension}");

    private IEnumerable<(string Path, string Queue, long Period)> Files()
    {
        if (!System.IO.Directory.Exists(Directory)) yield break;
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*" + Extension))
        {
            var parts = Path.GetFileNameWithoutExtension(path).Split('.');
            string name;
            try
            {
                name = Encoding.UTF8.GetString(Convert.FromHexString(parts[0]));
            }
            catch (FormatException)
            {
                continue;
            }
            if (parts.Length == 2 && long.TryParse(parts[1], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var period))
                yield return (path, name, period);
        }
    }

    private List<HistoryPoint> ReadFile(string path, long period, bool repair)
    {
        var points = new List<HistoryPoint>();
        byte[] bytes;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            bytes = new byte[file.Length];
            file.ReadExactly(bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            HistoryLog.Unreadable(logger, e, path);
            return points;
        }
        if (bytes.Length < Magic.Length || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            if (!repair) return points;
            HistoryLog.BadFile(logger, path, "no history header");
            TryRepair(path, () => File.Delete(path));
            return points;
        }
        var offset = Magic.Length;
        var start = period * PeriodSeconds;
        while (offset < bytes.Length)
        {
            var problem = Decode(bytes.AsSpan(offset), out var point, out var length);
            if (problem is null && (point.Time < start || point.Time >= start + PeriodSeconds)) problem = "a time outside the file's period";
            if (problem is not null)
            {
                if (!repair) break;
                HistoryLog.BadRecord(logger, path, offset, problem);
                var good = offset;
                TryRepair(path, () =>
                {
                    using var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read);
                    file.SetLength(good);
                });
                break;
            }
            points.Add(point);
            offset += length;
        }
        return points;
    }

    private void TryRepair(string path, Action repair)
    {
        try
        {
            repair();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            HistoryLog.Unreadable(logger, e, path);
        }
    }

    /// <summary>Writes a point's record into <paramref name="buffer"/>; returns its length.</summary>
    internal static int Encode(HistoryPoint point, byte[] buffer)
    {
        var span = buffer.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)Math.Clamp(point.Time, 0, uint.MaxValue));
        ushort mask = 0;
        var length = 6;
        for (var i = 0; i < HistoryPoint.Count; i++)
        {
            var value = point[i];
            if (value == 0 || !float.IsFinite(value)) continue;
            mask |= (ushort)(1 << i);
            BinaryPrimitives.WriteSingleLittleEndian(span[length..], value);
            length += 4;
        }
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], mask);
        BinaryPrimitives.WriteUInt16LittleEndian(span[length..], Check(span[..length]));
        return length + 2;
    }

    /// <summary>Reads one record; null when it is whole and sound, else what is wrong with it.</summary>
    internal static string? Decode(ReadOnlySpan<byte> bytes, out HistoryPoint point, out int length)
    {
        point = default;
        length = 0;
        if (bytes.Length < 8) return "a cut-off record";
        var mask = BinaryPrimitives.ReadUInt16LittleEndian(bytes[4..]);
        if (mask >> HistoryPoint.Count != 0) return "an unknown value mask";
        var body = 6 + 4 * BitOperations.PopCount(mask);
        if (bytes.Length < body + 2) return "a cut-off record";
        if (BinaryPrimitives.ReadUInt16LittleEndian(bytes[body..]) != Check(bytes[..body])) return "a record whose check does not match";
        Span<float> values = stackalloc float[HistoryPoint.Count];
        var at = 6;
        for (var i = 0; i < HistoryPoint.Count; i++)
        {
            if ((mask & (1 << i)) == 0) continue;
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[at..]);
            at += 4;
        }
        point = HistoryPoint.Of(BinaryPrimitives.ReadUInt32LittleEndian(bytes), values);
        length = body + 2;
        return null;
    }

    /// <summary>FNV-1a over the record, folded to 16 bits.</summary>
    private static ushort Check(ReadOnlySpan<byte> bytes)
    {
        var hash = 2166136261u;
        foreach (var b in bytes) hash = (hash ^ b) * 16777619u;
        return (ushort)(hash ^ (hash >> 16));
    }
}

/// <summary>The dashboard history's log messages.</summary>
internal static partial class HistoryLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard history file {Path} could not be read or repaired")]
    public static partial void Unreadable(ILogger logger, Exception exception, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard history file {Path} skipped and deleted: {Problem}")]
    public static partial void BadFile(ILogger logger, string path, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard history file {Path} cut back to offset {Offset}: {Problem}")]
    public static partial void BadRecord(ILogger logger, string path, int offset, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard history could not be written; sampling goes on")]
    public static partial void WriteFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard history writer fell behind: {Dropped} batch(es) of 10-s points dropped")]
    public static partial void Dropped(ILogger logger, long dropped);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dashboard sampler skipped a tick: {Reason}")]
    public static partial void SampleFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dashboard history loaded: {Points} points of {Queues} queue(s) from {Directory}")]
    public static partial void Loaded(ILogger logger, int points, int queues, string directory);
}
