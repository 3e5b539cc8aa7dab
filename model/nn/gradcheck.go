package nn

// NumericGrad is d loss / d q.Data[i] by central differences (step 1e-2),
// for checking a graph's gradients against a reference implementation of
// the loss. q.Data[i] is restored.
func NumericGrad(q *Param, i int, loss func() float64) float64 {
	const eps = 1e-2
	old := q.Data[i]
	q.Data[i] = old + eps
	up := loss()
	q.Data[i] = old - eps
	down := loss()
	q.Data[i] = old
	return (up - down) / (2 * eps)
}
