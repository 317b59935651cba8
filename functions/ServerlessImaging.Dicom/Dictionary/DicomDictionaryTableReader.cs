using System.Buffers.Text;
using System.Text;

namespace ServerlessImaging.Dicom;

/// <summary>
/// Parses the generated UTF-8 table (<see cref="DicomDictionaryTable.Lines"/>) into entries. Runs once per process, on
/// the first dictionary lookup; the table is generated, so a malformed line is a build bug and throws.
/// </summary>
internal static class DicomDictionaryTableReader
{
    internal static List<DicomDictionaryEntry> Read(ReadOnlySpan<byte> table)
    {
        var entries = new List<DicomDictionaryEntry>(5200);
        // Few distinct VR lists and VMs: share one array/string per distinct value instead of one per entry.
        var vrLists = new Dictionary<string, DicomVR[]>(StringComparer.Ordinal);
        var vms = new Dictionary<string, string>(StringComparer.Ordinal);
        while (!table.IsEmpty)
        {
            var end = table.IndexOf((byte)'\n');
            var line = end < 0 ? table : table[..end];
            table = end < 0 ? [] : table[(end + 1)..];
            if (!line.IsEmpty)
            {
                entries.Add(ParseLine(line, vrLists, vms));
            }
        }
        return entries;
    }

    private static DicomDictionaryEntry ParseLine(ReadOnlySpan<byte> line, Dictionary<string, DicomVR[]> vrLists, Dictionary<string, string> vms)
    {
        Span<Range> f = stackalloc Range[10];
        if (SplitFields(line, f) != 10)
        {
            throw new InvalidOperationException("Malformed line in the generated DICOM dictionary table");
        }
        var vrText = Encoding.ASCII.GetString(line[f[7]]);
        if (!vrLists.TryGetValue(vrText, out var vrs))
        {
            vrs = vrText == "NONE" ? [DicomVR.NONE] : vrText.Split('|').Select(DicomVR.Parse).ToArray();
            vrLists.Add(vrText, vrs);
        }
        var vmText = Encoding.ASCII.GetString(line[f[8]]);
        if (!vms.TryGetValue(vmText, out var vm))
        {
            vm = vmText;
            vms.Add(vm, vm);
        }
        return new DicomDictionaryEntry(
            Hex(line[f[0]]), Hex(line[f[1]]), Digit(line[f[2]]), Hex(line[f[3]]), Hex(line[f[4]]), Digit(line[f[5]]),
            Encoding.ASCII.GetString(line[f[9]]), name: null, vrs, vm, retired: line[f[6]][0] == (byte)'R');
    }

    private static int SplitFields(ReadOnlySpan<byte> line, Span<Range> fields)
    {
        var count = 0;
        var start = 0;
        while (count < fields.Length)
        {
            var space = line[start..].IndexOf((byte)' ');
            var end = space < 0 || count == fields.Length - 1 ? line.Length : start + space;
            fields[count++] = start..end;
            if (end == line.Length)
            {
                return count;
            }
            start = end + 1;
        }
        return count;
    }

    private static ushort Hex(ReadOnlySpan<byte> s) =>
        Utf8Parser.TryParse(s, out ushort v, out var used, 'X') && used == s.Length
            ? v
            : throw new InvalidOperationException("Malformed hex field in the generated DICOM dictionary table");

    private static int Digit(ReadOnlySpan<byte> s) => s[0] - '0';
}

/// <summary>Readable names from keywords: an upper-case letter starts a word after a lower-case letter or digit, or
/// ends an acronym ("SOPInstanceUID" -> "SOP Instance UID"). dcmtk's dicom.dic carries keywords only.</summary>
internal static class DicomKeywordWords
{
    internal static string Split(string keyword)
    {
        var sb = new StringBuilder(keyword.Length + 8);
        for (var i = 0; i < keyword.Length; i++)
        {
            var c = keyword[i];
            if (i > 0 && char.IsUpper(c))
            {
                var prev = keyword[i - 1];
                var nextLower = i + 1 < keyword.Length && char.IsLower(keyword[i + 1]);
                if (char.IsLower(prev) || char.IsDigit(prev) || (char.IsUpper(prev) && nextLower))
                {
                    sb.Append(' ');
                }
            }
            sb.Append(c);
        }
        return sb.ToString();
    }
}
