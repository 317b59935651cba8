using ServerlessImaging.Cloud.Runtime;

namespace ServerlessImaging.Cloud.Tests.Runtime;

public sealed class RecentSetTests
{
    [Fact]
    public void Remembers_up_to_its_capacity_then_forgets_the_oldest_first()
    {
        var set = new RecentSet(capacity: 2);
        set.Add("a");
        set.Add("b");
        set.Add("a"); // already there: not a new entry, "a" stays the oldest
        Assert.True(set.Contains("a") && set.Contains("b"));

        set.Add("c");
        Assert.False(set.Contains("a"));
        Assert.True(set.Contains("b") && set.Contains("c"));
    }

    [Fact]
    public void Concurrent_adds_keep_the_bound()
    {
        var set = new RecentSet(capacity: 100);
        Parallel.For(0, 10_000, i => set.Add("id-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(100, Enumerable.Range(0, 10_000).Count(i => set.Contains("id-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture))));
    }
}
