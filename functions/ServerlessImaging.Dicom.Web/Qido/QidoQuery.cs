using System.Globalization;
using System.Text;
using ServerlessImaging.Dicom.Web.Http;

namespace ServerlessImaging.Dicom.Web.Qido;

/// <summary>Which resource a QIDO-RS search returns.</summary>
public enum QidoLevel { Studies, Series, Instances }

/// <summary>
/// A QIDO-RS search (PS3.18 10.6): level, optional parent scope, matching keys, includefield,
/// fuzzymatching and paging. Immutable; the With* methods return a changed copy.
/// </summary>
public sealed record QidoQuery
{
    private QidoQuery(QidoLevel level) => Level = level;

    public QidoLevel Level { get; }

    /// <summary>Restricts a series or instance search to one study.</summary>
    public string? StudyInstanceUid { get; private init; }

    /// <summary>Restricts an instance search to one series (needs the study too).</summary>
    public string? SeriesInstanceUid { get; private init; }

    public IReadOnlyList<KeyValuePair<DicomTag, string>> MatchKeys { get; private init; } = [];

    public IReadOnlyList<DicomTag> IncludeFields { get; private init; } = [];

    public bool IncludeAllFields { get; private init; }

    public bool FuzzyMatching { get; private init; }

    /// <summary>Total results wanted; null for all.</summary>
    public int? Limit { get; private init; }

    /// <summary>Results to skip first.</summary>
    public int Offset { get; private init; }

    /// <summary>Results asked per request when enumerating; servers cap it (Orthanc: 100 by default is safe).</summary>
    public int PageSize { get; private init; } = 100;

    public static QidoQuery Studies() => new(QidoLevel.Studies);

    public static QidoQuery Series(string? studyInstanceUid = null) =>
        new(QidoLevel.Series) { StudyInstanceUid = studyInstanceUid is null ? null : DicomWebPaths.Uid(studyInstanceUid) };

    public static QidoQuery Instances(string? studyInstanceUid = null, string? seriesInstanceUid = null)
    {
        if (seriesInstanceUid is not null && studyInstanceUid is null)
        {
            throw new ArgumentException("An instance search within a series needs the study UID too.", nameof(studyInstanceUid));
        }
        return new(QidoLevel.Instances)
        {
            StudyInstanceUid = studyInstanceUid is null ? null : DicomWebPaths.Uid(studyInstanceUid),
            SeriesInstanceUid = seriesInstanceUid is null ? null : DicomWebPaths.Uid(seriesInstanceUid),
        };
    }

    public static QidoQuery For(QidoLevel level) => new(level);

    /// <summary>Adds a matching key given as keyword ("PatientName"), "00100010" or "(0010,0010)".</summary>
    /// <exception cref="ArgumentException">Unknown keyword or malformed tag.</exception>
    public QidoQuery With(string keywordOrTag, string value) => With(ParseTag(keywordOrTag), value);

    public QidoQuery With(DicomTag tag, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return this with { MatchKeys = [.. MatchKeys, new(tag, value)] };
    }

    public QidoQuery Include(string keywordOrTag) => Include(ParseTag(keywordOrTag));

    public QidoQuery Include(DicomTag tag) => this with { IncludeFields = [.. IncludeFields, tag] };

    public QidoQuery IncludeAll() => this with { IncludeAllFields = true };

    public QidoQuery WithFuzzyMatching(bool fuzzy = true) => this with { FuzzyMatching = fuzzy };

    public QidoQuery WithLimit(int? limit) =>
        limit is < 0 ? throw new ArgumentOutOfRangeException(nameof(limit)) : this with { Limit = limit };

    public QidoQuery WithOffset(int offset) =>
        offset < 0 ? throw new ArgumentOutOfRangeException(nameof(offset)) : this with { Offset = offset };

    public QidoQuery WithPageSize(int pageSize) =>
        pageSize <= 0 ? throw new ArgumentOutOfRangeException(nameof(pageSize)) : this with { PageSize = pageSize };

    /// <summary>Relative URI (to the service base) for one page.</summary>
    public string ToRelativeUri(int offset, int? limit)
    {
        var path = (Level, StudyInstanceUid, SeriesInstanceUid) switch
        {
            (QidoLevel.Studies, _, _) => "studies",
            (QidoLevel.Series, null, _) => "series",
            (QidoLevel.Series, { } study, _) => DicomWebPaths.Resource(study) + "/series",
            (QidoLevel.Instances, null, _) => "instances",
            (QidoLevel.Instances, { } study, null) => DicomWebPaths.Resource(study) + "/instances",
            (QidoLevel.Instances, { } study, { } series) => DicomWebPaths.Resource(study, series) + "/instances",
            _ => throw new InvalidOperationException("Unknown QIDO level."),
        };
        var query = new StringBuilder();
        foreach (var (tag, value) in MatchKeys)
        {
            Append(query, KeyName(tag), value);
        }
        if (IncludeAllFields)
        {
            Append(query, "includefield", "all");
        }
        foreach (var tag in IncludeFields)
        {
            Append(query, "includefield", KeyName(tag));
        }
        if (FuzzyMatching)
        {
            Append(query, "fuzzymatching", "true");
        }
        if (limit is { } l)
        {
            Append(query, "limit", l.ToString(CultureInfo.InvariantCulture));
        }
        if (offset > 0)
        {
            Append(query, "offset", offset.ToString(CultureInfo.InvariantCulture));
        }
        return query.Length == 0 ? path : path + "?" + query;
    }

    // Keywords read better in logs and every server accepts them; unknown/private tags go as hex.
    private static string KeyName(DicomTag tag) => !tag.IsPrivate && tag.Keyword is { Length: > 0 } keyword ? keyword : tag.ToHexString();

    private static void Append(StringBuilder query, string key, string value)
    {
        if (query.Length > 0)
        {
            query.Append('&');
        }
        query.Append(Uri.EscapeDataString(key)).Append('=');
        EscapeValue(query, value);
    }

    /// <summary>
    /// Percent-encodes a value as UTF-8 but leaves the DICOM matching characters '*', '^', ',' and ':' as they
    /// are: they are legal in a query, and a server that does not percent-decode (Orthanc) still sees them.
    /// </summary>
    private static void EscapeValue(StringBuilder query, string value)
    {
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '*' or '^' or ',' or ':')
            {
                query.Append(c);
                continue;
            }
            var length = char.IsSurrogatePair(value, i)
                ? new Rune(value[i], value[++i]).EncodeToUtf8(utf8)
                : new Rune(char.IsSurrogate(c) ? '\uFFFD' : c).EncodeToUtf8(utf8);
            foreach (var b in utf8[..length])
            {
                query.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
    }

    private static DicomTag ParseTag(string keywordOrTag) =>
        DicomTag.TryParse(keywordOrTag, out var tag)
            ? tag
            : throw new ArgumentException($"'{keywordOrTag}' is neither a DICOM keyword nor a tag.", nameof(keywordOrTag));
}
