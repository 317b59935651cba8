namespace ServerlessImaging.Testing.Dcmtk;

/// <summary>What one dcmtk command did. dcmtk tools often exit 0 after a refusal, so read <see cref="ErrorLines"/> too.</summary>
public sealed record DcmtkResult(string Tool, int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>dcmtk's error and fatal log lines ("E: ...", "F: ...").</summary>
    public IReadOnlyList<string> ErrorLines { get; } =
        (StandardOutput + "\n" + StandardError)
            .Split('\n')
            .Select(l => l.TrimEnd('\r'))
            .Where(l => l.StartsWith("E: ", StringComparison.Ordinal) || l.StartsWith("F: ", StringComparison.Ordinal))
            .ToArray();

    public bool Succeeded => ExitCode == 0 && ErrorLines.Count == 0;

    /// <summary>Throws unless the tool exited 0 and logged no error.</summary>
    public DcmtkResult EnsureSucceeded()
    {
        if (!Succeeded)
        {
            throw new DcmtkFailedException(this);
        }

        return this;
    }
}

/// <summary>A dcmtk tool failed or logged an error; the message quotes its error lines only (no data set dumps).</summary>
public sealed class DcmtkFailedException : Exception
{
    public DcmtkFailedException(DcmtkResult result)
        : base($"{result?.Tool} exited {result?.ExitCode}: {string.Join(" | ", result?.ErrorLines.Take(6) ?? [])}")
    {
        Result = result;
    }

    public DcmtkResult? Result { get; }
}
