using System.Text;

namespace ServerlessImaging.Testing.Atna;

/// <summary>The lines an rsyslog collector (the stack's or a test's own) wrote to its received-messages file.</summary>
public static class CollectorLog
{
    /// <summary>Every line so far; rsyslog keeps the file open for writing, so it is opened shared.</summary>
    public static List<string> ReadLines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: false);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            lines.Add(line);
        }

        return lines;
    }
}
