package portable

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Numbered batches of an instance run one at a time in their order,
// whichever comes first; a batch whose predecessor never comes waits at
// most orderWait; one whose context ends while it waits fails and lets
// the next go.
func TestNumberedBatchesRunInOrder(t *testing.T) {
	in := &instance{run: make(chan struct{}, 1), next: 1, advanced: make(chan struct{})}
	var mu sync.Mutex
	var ran []uint64
	var wg sync.WaitGroup
	for _, seq := range []uint64{3, 2, 1} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done, err := in.turn(context.Background(), seq)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			ran = append(ran, seq)
			mu.Unlock()
			done()
		}()
		time.Sleep(20 * time.Millisecond) // 3 and 2 are waiting before 1 comes
	}
	wg.Wait()
	if len(ran) != 3 || ran[0] != 1 || ran[1] != 2 || ran[2] != 3 {
		t.Fatalf("ran %v, want [1 2 3]", ran)
	}
	// Batch 4 never comes: 5 goes on after orderWait.
	start := time.Now()
	done, err := in.turn(context.Background(), 5)
	if err != nil {
		t.Fatal(err)
	}
	done()
	if waited := time.Since(start); waited < orderWait/2 {
		t.Errorf("batch 5 waited %v for batch 4, want about %v", waited, orderWait)
	}
	// A batch whose context ends while it waits fails, and the next one
	// does not wait for it.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := in.turn(ctx, 8); err == nil {
		t.Fatal("batch 8 ran before 7")
	}
	start = time.Now()
	done, err = in.turn(context.Background(), 9)
	if err != nil {
		t.Fatal(err)
	}
	done()
	if waited := time.Since(start); waited > orderWait/2 {
		t.Errorf("batch 9 waited %v after batch 8 gave up", waited)
	}
}
