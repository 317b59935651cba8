namespace ServerlessImaging.Testing.Dcmtk;

/// <summary>
/// Copies of the shared real-DICOM corpus re-identified per test (fresh UIDs, a unique
/// synthetic patient name) with dcmtk's dcmodify, so tests on a shared PACS never see
/// each other's studies.
/// </summary>
public static class DicomTestFiles
{
    /// <summary>The shared corpus: SI_DICOM_CORPUS, else shared/dicom-corpus beside the repository.</summary>
    public static string CorpusDirectory(string repositoryRoot)
    {
        var configured = Environment.GetEnvironmentVariable("SI_DICOM_CORPUS");
        var path = string.IsNullOrEmpty(configured)
            ? Path.GetFullPath(Path.Combine(repositoryRoot, "..", "shared", "dicom-corpus"))
            : configured;
        return Directory.Exists(path)
            ? path
            : throw new DirectoryNotFoundException($"DICOM corpus not found at {path}; set SI_DICOM_CORPUS.");
    }

    /// <summary>
    /// Writes a copy of <paramref name="sourceFile"/> into <paramref name="targetDirectory"/> with new study, series and
    /// instance UIDs and the given patient; <paramref name="moreAttributes"/> (dcmodify <c>Keyword=value</c>) sets more of
    /// it, e.g. the birth date and sex a store's identity check compares.
    /// </summary>
    public static async Task<ReidentifiedFile> CopyWithNewIdentityAsync(
        string sourceFile,
        string targetDirectory,
        string patientName,
        string patientId,
        CancellationToken cancellationToken,
        params string[] moreAttributes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sourceFile);
        ArgumentException.ThrowIfNullOrWhiteSpace(targetDirectory);
        Directory.CreateDirectory(targetDirectory);
        var studyUid = Isolation.UniqueNames.DicomUid();
        var seriesUid = Isolation.UniqueNames.DicomUid();
        var instanceUid = Isolation.UniqueNames.DicomUid();
        var target = Path.Combine(targetDirectory, instanceUid + ".dcm");
        File.Copy(sourceFile, target);
        (await DcmtkRunner.RunAsync(
            "dcmodify",
            [
                "--no-backup",
                "-i", "PatientName=" + patientName,
                "-i", "PatientID=" + patientId,
                "-i", "StudyInstanceUID=" + studyUid,
                "-i", "SeriesInstanceUID=" + seriesUid,
                "-i", "SOPInstanceUID=" + instanceUid,
                .. moreAttributes.SelectMany(attribute => new[] { "-i", attribute }),
                target,
            ],
            cancellationToken)).EnsureSucceeded();
        return new ReidentifiedFile(target, studyUid, seriesUid, instanceUid);
    }
}

public sealed record ReidentifiedFile(string Path, string StudyInstanceUid, string SeriesInstanceUid, string SopInstanceUid);
