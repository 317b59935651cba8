using ServerlessImaging.Contracts.Messages;
using ServerlessImaging.Relay.Retrieval;
using ServerlessImaging.Relay.Tests.Support;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Relay.Tests.Retrieval;

public sealed class SpoolBudgetTests
{
    [Fact]
    public async Task Disk_reservations_wait_at_the_cap_until_space_is_released()
    {
        var budget = new SpoolBudget(Path.Combine(Path.GetTempPath(), "si-spool-" + Guid.NewGuid().ToString("N")), maxMemoryBytes: 10, maxDiskBytes: 100);
        await budget.ReserveDiskAsync(80, CancellationToken.None);

        var waiting = budget.ReserveDiskAsync(30, CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        budget.ReleaseDisk(50);
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(60, budget.DiskInUse);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await budget.ReserveDiskAsync(101, CancellationToken.None));
    }

    [Fact]
    public void The_chunk_pool_keeps_a_chunk_for_every_64_KiB_of_the_memory_budget()
    {
        // A whole budget's worth of chunks rented and returned, then rented again: the same arrays come back, so a long
        // transfer allocates its chunks once instead of leaving them, one round after another, to the GC's oldest
        // generation (the shared pool keeps a few dozen arrays of a size and drops the rest).
        var budget = new SpoolBudget(Path.Combine(Path.GetTempPath(), "si-spool-" + Guid.NewGuid().ToString("N")), maxMemoryBytes: 32L << 20, maxDiskBytes: 1L << 30);
        var chunksInBudget = (int)(budget.MaxMemoryBytes / PooledBufferStream.ChunkSize);

        HashSet<byte[]> RentAllAndReturn()
        {
            var chunks = new HashSet<byte[]>(ReferenceEqualityComparer.Instance);
            for (var i = 0; i < chunksInBudget; i++)
            {
                chunks.Add(budget.ChunkPool.Rent(PooledBufferStream.ChunkSize));
            }

            foreach (var chunk in chunks)
            {
                budget.ChunkPool.Return(chunk);
            }

            return chunks;
        }

        var first = RentAllAndReturn();
        var second = RentAllAndReturn();

        Assert.Equal(chunksInBudget, first.Count);
        Assert.True(first.SetEquals(second));
    }

    [Fact]
    public async Task An_instance_over_the_memory_budget_spills_to_a_spool_file_and_reads_back_intact()
    {
        var directory = Path.Combine(Path.GetTempPath(), "si-spool-" + Guid.NewGuid().ToString("N"));
        var budget = new SpoolBudget(directory, maxMemoryBytes: 100_000, maxDiskBytes: 10_000_000);
        var content = new byte[300_000];
        Random.Shared.NextBytes(content);

        await using (var pending = new PendingInstance(budget, "1.2", "1.2.3"))
        {
            for (var offset = 0; offset < content.Length; offset += 7000)
            {
                await pending.WriteAsync(content.AsMemory(offset, Math.Min(7000, content.Length - offset)), CancellationToken.None);
            }

            Assert.True(pending.Spilled);
            Assert.Equal(0, budget.MemoryInUse);
            Assert.Single(Directory.GetFiles(directory, "*.spool"));
            var stream = await pending.SealAsync(CancellationToken.None);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            Assert.Equal(content, copy.ToArray());
            Assert.Equal(RelayUnderTest.Sha256(content), pending.Sha256);
        }

        Assert.Empty(Directory.GetFiles(directory, "*.spool"));
        Assert.Equal(0, budget.DiskInUse);
    }
}

[Collection(LocalStackFixture.CollectionName)]
public sealed class SpoolRetrievalTests(LocalStackFixture stack)
{
    [Fact]
    public async Task A_retrieval_under_the_smallest_memory_and_spool_budgets_stages_exactly_and_leaves_no_spool_file()
    {
        var study = await TestStudy.CreateAndLoadAsync(stack, "chu-nord", series: 1, instancesPerSeries: 40);
        await using var relay = new RelayUnderTest(stack, "chu-nord", "Move", tweak: s =>
        {
            s["Relay:Spool:MaxMemoryBytes"] = (1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture);
            s["Relay:Spool:MaxBytes"] = (16 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture);
            s["Relay:UploadConcurrency"] = "1";
        });
        await relay.StartAsync();

        var command = relay.Command(relay.Retrieve(study.StudyInstanceUid, "reg-spool/s"));
        await relay.SendAsync(command);
        var completed = await relay.AnswerAsync<RetrievalCompleted>(command);

        await StagingAssertions.AssertStagedExactlyAsync(relay, study, "reg-spool/s", completed);
        Assert.Empty(Directory.GetFiles(relay.Settings["Relay:Spool:Directory"]!, "*.spool"));
    }
}
