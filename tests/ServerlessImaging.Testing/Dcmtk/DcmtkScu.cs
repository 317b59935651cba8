using System.Text.RegularExpressions;

namespace ServerlessImaging.Testing.Dcmtk;

/// <summary>The dcmtk SCU calls tests need most, with refusals turned into exceptions.</summary>
public static partial class DcmtkScu
{
    /// <summary>C-ECHO with echoscu.</summary>
    public static async Task EchoAsync(DicomAssociation association, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(association);
        (await DcmtkRunner.RunAsync("echoscu", association.Arguments(), cancellationToken)).EnsureSucceeded();
    }

    /// <summary>C-STORE of Part 10 files with storescu.</summary>
    public static async Task StoreAsync(DicomAssociation association, IEnumerable<string> files, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(association);
        ArgumentNullException.ThrowIfNull(files);
        (await DcmtkRunner.RunAsync("storescu", association.Arguments().Concat(files), cancellationToken)).EnsureSucceeded();
    }

    /// <summary>
    /// Study-root C-FIND with findscu. <paramref name="keys"/> are findscu -k keys
    /// ("PatientName=DOE*", "StudyInstanceUID" to ask for a return value). findscu exits 0
    /// even when the PACS refuses the calling AE, so refusals are detected from its log.
    /// </summary>
    public static async Task<IReadOnlyList<FindResponse>> FindAsync(
        DicomAssociation association,
        string queryRetrieveLevel,
        IEnumerable<string> keys,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(association);
        ArgumentNullException.ThrowIfNull(keys);
        var arguments = new List<string> { "-v", "-S" };
        arguments.AddRange(association.Arguments());
        arguments.AddRange(["-k", "QueryRetrieveLevel=" + queryRetrieveLevel]);
        foreach (var key in keys)
        {
            arguments.AddRange(["-k", key]);
        }

        var result = (await DcmtkRunner.RunAsync("findscu", arguments, cancellationToken)).EnsureSucceeded();
        return ParseFindResponses(result.StandardOutput + "\n" + result.StandardError);
    }

    /// <summary>Parses the data sets findscu -v logs after each "Find Response: n (Pending)".</summary>
    public static IReadOnlyList<FindResponse> ParseFindResponses(string findscuLog)
    {
        ArgumentNullException.ThrowIfNull(findscuLog);
        var responses = new List<FindResponse>();
        Dictionary<string, string>? current = null;
        foreach (var rawLine in findscuLog.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (line.Contains("Find Response:", StringComparison.Ordinal))
            {
                if (current is not null)
                {
                    responses.Add(new FindResponse(current));
                }

                current = line.Contains("(Pending", StringComparison.Ordinal) ? new Dictionary<string, string>(StringComparer.Ordinal) : null;
                continue;
            }

            if (current is null)
            {
                continue;
            }

            var match = ElementLine().Match(line);
            if (match.Success)
            {
                var value = match.Groups["value"].Success ? match.Groups["value"].Value.TrimEnd(' ', '\0') : string.Empty;
                current[match.Groups["keyword"].Value] = value;
            }
        }

        if (current is not null)
        {
            responses.Add(new FindResponse(current));
        }

        return responses;
    }

    // e.g. "I: (0010,0010) PN [DOE^JOHN]      #   8, 1 PatientName"
    [GeneratedRegex(@"^I: \([0-9a-fA-F]{4},[0-9a-fA-F]{4}\) [A-Z]{2} (?:\[(?<value>.*)\]|\(no value available\)|.*?)\s+#\s*\d+,\s*\d+\s+(?<keyword>\w+)\s*$")]
    private static partial Regex ElementLine();
}

/// <summary>One pending C-FIND response, by attribute keyword.</summary>
public sealed record FindResponse(IReadOnlyDictionary<string, string> Attributes)
{
    public string? this[string keyword] => Attributes.TryGetValue(keyword, out var value) ? value : null;
}
