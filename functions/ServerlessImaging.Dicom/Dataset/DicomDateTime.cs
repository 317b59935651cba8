using System.Globalization;

namespace ServerlessImaging.Dicom;

/// <summary>How much of a DT (or TM) value was given: DICOM allows trailing components to be omitted.</summary>
public enum DicomDateTimePrecision { Year, Month, Day, Hour, Minute, Second, Fraction }

/// <summary>A DT value: missing trailing components are filled with their minimum; <see cref="HasOffset"/> says whether a UTC offset was present.</summary>
public readonly record struct DicomDateTime(DateTimeOffset Value, DicomDateTimePrecision Precision, bool HasOffset);

/// <summary>Parsing of DA, TM and DT text (PS3.5 6.2), including the legacy "YYYY.MM.DD" and "HH:MM:SS" forms.</summary>
public static class DicomDateTimeParser
{
    public static DateOnly ParseDate(string text)
    {
        var s = text.Trim().Replace(".", "", StringComparison.Ordinal);
        if (s.Length == 8 && DateOnly.TryParseExact(s, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
        {
            return d;
        }
        throw new DicomValueException("DA value is not a valid date (YYYYMMDD)");
    }

    public static TimeOnly ParseTime(string text) => ParseTime(text, out _);

    public static TimeOnly ParseTime(string text, out DicomDateTimePrecision precision)
    {
        var s = text.Trim().Replace(":", "", StringComparison.Ordinal);
        var dot = s.IndexOf('.', StringComparison.Ordinal);
        var main = dot < 0 ? s : s[..dot];
        if (main.Length is not (2 or 4 or 6) || !IsDigits(main))
        {
            throw new DicomValueException("TM value is not a valid time");
        }
        var h = int.Parse(main.AsSpan(0, 2), CultureInfo.InvariantCulture);
        var m = main.Length >= 4 ? int.Parse(main.AsSpan(2, 2), CultureInfo.InvariantCulture) : 0;
        var sec = main.Length >= 6 ? int.Parse(main.AsSpan(4, 2), CultureInfo.InvariantCulture) : 0;
        long ticks = 0;
        precision = main.Length switch { 2 => DicomDateTimePrecision.Hour, 4 => DicomDateTimePrecision.Minute, _ => DicomDateTimePrecision.Second };
        if (dot >= 0)
        {
            var frac = s[(dot + 1)..];
            if (frac.Length is 0 or > 6 || !IsDigits(frac))
            {
                throw new DicomValueException("TM value has an invalid fraction");
            }
            ticks = long.Parse(frac.PadRight(7, '0'), CultureInfo.InvariantCulture);
            precision = DicomDateTimePrecision.Fraction;
        }
        if (h > 23 || m > 59 || sec > 60)
        {
            throw new DicomValueException("TM value is out of range");
        }
        return new TimeOnly(h, m, Math.Min(sec, 59)).Add(TimeSpan.FromTicks(ticks));
    }

    public static DicomDateTime ParseDateTime(string text)
    {
        var s = text.Trim();
        var offset = TimeSpan.Zero;
        var hasOffset = false;
        var sign = s.IndexOfAny(['+', '-'], 4);
        if (sign > 0)
        {
            var o = s[(sign + 1)..];
            if (o.Length != 4 || !IsDigits(o))
            {
                throw new DicomValueException("DT value has an invalid UTC offset");
            }
            offset = new TimeSpan(int.Parse(o.AsSpan(0, 2), CultureInfo.InvariantCulture), int.Parse(o.AsSpan(2, 2), CultureInfo.InvariantCulture), 0);
            if (s[sign] == '-')
            {
                offset = -offset;
            }
            hasOffset = true;
            s = s[..sign];
        }
        var dot = s.IndexOf('.', StringComparison.Ordinal);
        var main = dot < 0 ? s : s[..dot];
        if (main.Length is not (4 or 6 or 8 or 10 or 12 or 14) || !IsDigits(main))
        {
            throw new DicomValueException("DT value is not a valid date-time");
        }
        int Part(int start, int len, int dflt) => main.Length >= start + len ? int.Parse(main.AsSpan(start, len), CultureInfo.InvariantCulture) : dflt;
        var precision = main.Length switch
        {
            4 => DicomDateTimePrecision.Year, 6 => DicomDateTimePrecision.Month, 8 => DicomDateTimePrecision.Day,
            10 => DicomDateTimePrecision.Hour, 12 => DicomDateTimePrecision.Minute, _ => DicomDateTimePrecision.Second,
        };
        long ticks = 0;
        if (dot >= 0)
        {
            var frac = s[(dot + 1)..];
            if (main.Length != 14 || frac.Length is 0 or > 6 || !IsDigits(frac))
            {
                throw new DicomValueException("DT value has an invalid fraction");
            }
            ticks = long.Parse(frac.PadRight(7, '0'), CultureInfo.InvariantCulture);
            precision = DicomDateTimePrecision.Fraction;
        }
        try
        {
            var value = new DateTimeOffset(Part(0, 4, 1), Part(4, 2, 1), Part(6, 2, 1), Part(8, 2, 0), Part(10, 2, 0), Math.Min(Part(12, 2, 0), 59), offset).AddTicks(ticks);
            return new DicomDateTime(value, precision, hasOffset);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new DicomValueException("DT value is out of range", ex);
        }
    }

    public static string FormatDate(DateOnly date) => date.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    public static string FormatTime(TimeOnly time) =>
        time.Ticks % TimeSpan.TicksPerSecond == 0
            ? time.ToString("HHmmss", CultureInfo.InvariantCulture)
            : time.ToString("HHmmss.ffffff", CultureInfo.InvariantCulture);

    public static string FormatDateTime(DateTimeOffset value) =>
        value.ToString("yyyyMMddHHmmss.ffffff", CultureInfo.InvariantCulture) + (value.Offset < TimeSpan.Zero ? "-" : "+") +
        value.Offset.Duration().ToString("hhmm", CultureInfo.InvariantCulture);

    private static bool IsDigits(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }
        return true;
    }
}
