using ServerlessImaging.RegionGenerator.Manifest;
using ServerlessImaging.RegionGenerator.Options;
using ServerlessImaging.RegionGenerator.Sites;
using ServerlessImaging.RegionGenerator.Writing;

namespace ServerlessImaging.Stack.Tests.Generator;

/// <summary>Same seed and options => byte-identical files and manifest, wherever they are written.</summary>
public sealed class RegionDeterminismTests : IDisposable
{
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("si-region-determinism-");

    public void Dispose() => _scratch.Delete(recursive: true);

    private async Task<(RegionManifest Manifest, string Directory)> GenerateAsync(string name, ulong seed)
    {
        var dir = Path.Combine(_scratch.FullName, name);
        var plan = RegionWriter.Plan(seed, GenerationProfiles.Get("tiny", RegionSites.DefaultIds), RegionSites.Defaults);
        return (await RegionWriter.WriteAsync(plan, dir, CancellationToken.None), dir);
    }

    [Fact]
    public async Task Same_seed_twice_gives_identical_manifest_and_file_bytes()
    {
        var (first, dirA) = await GenerateAsync("a", 20260101);
        var (_, dirB) = await GenerateAsync("b", 20260101);

        Assert.Equal(File.ReadAllBytes(Path.Combine(dirA, RegionManifestFile.FileName)), File.ReadAllBytes(Path.Combine(dirB, RegionManifestFile.FileName)));
        var files = Directory.GetFiles(dirA, "*.dcm", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dirA, f)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(files, Directory.GetFiles(dirB, "*.dcm", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dirB, f)).Order(StringComparer.Ordinal));
        Assert.Equal(first.InstanceCount, files.Count);
        foreach (var file in files)
        {
            Assert.True(File.ReadAllBytes(Path.Combine(dirA, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(dirB, file))), file);
        }
    }

    [Fact]
    public async Task Manifest_round_trips_and_lists_every_written_file_with_its_size()
    {
        var (written, dir) = await GenerateAsync("round-trip", 5);
        var loaded = await RegionManifestFile.LoadAsync(dir, CancellationToken.None);

        Assert.Equal(RegionManifestFile.Serialize(written), RegionManifestFile.Serialize(loaded));
        var listed = loaded.Studies.SelectMany(s => s.Series).SelectMany(s => s.Instances).SelectMany(i => i.Files).ToList();
        Assert.Equal(loaded.InstanceCount, listed.Count);
        Assert.All(listed, f => Assert.Equal(new FileInfo(Path.Combine(dir, f.Path)).Length, f.Bytes));
        Assert.All(listed, f => Assert.StartsWith(f.Site + "/", f.Path, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_malformed_manifest_is_refused_with_a_typed_error()
    {
        var path = Path.Combine(_scratch.FullName, "broken.json");
        await File.WriteAllTextAsync(path, "{\"schemaVersion\": 1, \"seed\": ", CancellationToken.None);
        await Assert.ThrowsAsync<RegionManifestException>(() => RegionManifestFile.LoadAsync(path, CancellationToken.None));
        await Assert.ThrowsAsync<RegionManifestException>(() => RegionManifestFile.LoadAsync(Path.Combine(_scratch.FullName, "missing"), CancellationToken.None));
    }

    [Fact]
    public async Task Writing_over_a_foreign_non_empty_directory_is_refused_and_leaves_it_untouched()
    {
        var dir = Path.Combine(_scratch.FullName, "foreign");
        Directory.CreateDirectory(dir);
        var precious = Path.Combine(dir, "notes.txt");
        await File.WriteAllTextAsync(precious, "keep me", CancellationToken.None);
        var plan = RegionWriter.Plan(1, GenerationProfiles.Get("tiny", RegionSites.DefaultIds), RegionSites.Defaults);

        await Assert.ThrowsAsync<IOException>(() => RegionWriter.WriteAsync(plan, dir, CancellationToken.None));
        Assert.Equal("keep me", await File.ReadAllTextAsync(precious, CancellationToken.None));
    }
}
